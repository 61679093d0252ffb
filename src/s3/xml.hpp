// Just enough XML for S3's replies (Error, InitiateMultipartUploadResult,
// CompleteMultipartUploadResult, ListBucketResult, ListMultipartUploadsResult):
// elements found by name, their text unescaped. Those documents have no
// CDATA, comments or attributes on the elements read, and an element never
// contains another of the same name. Not a general XML parser.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace imapkeep::s3::xml {

// The raw contents of every <name>...</name> (or "" for <name/>), in order.
// Stops at a start tag that is never closed.
std::vector<std::string_view> elements(std::string_view document, std::string_view name);
// The first such element, unescaped; nullopt when there is none.
std::optional<std::string> text(std::string_view document, std::string_view name);
// &amp; &lt; &gt; &quot; &apos; and numeric references (&#NN; &#xHH;) as UTF-8.
// An unknown or broken reference stays as written.
std::string unescape(std::string_view raw);
// The reverse, for the one document we send (CompleteMultipartUpload).
std::string escape(std::string_view text);
// The name of the document's root element ("" if none), after any <?xml ...?>.
std::string root_name(std::string_view document);

}  // namespace imapkeep::s3::xml
