#include "s3/xml.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using namespace imapkeep::s3;

TEST_CASE("xml::unescape decodes the five entities and character references", "[s3][xml]") {
    struct Case {
        std::string raw, text;
    };
    const std::vector<Case> cases = {
        {"plain", "plain"},
        {"a&amp;b&lt;c&gt;d&quot;e&apos;f", "a&b<c>d\"e'f"},
        {"&#65;&#x42;&#x1234;", "AB\xE1\x88\xB4"},
        {"&#x1F600;", "\xF0\x9F\x98\x80"},
        {"&amp;amp;", "&amp;"},  // once only
        {"&unknown; & &#; &#xZZ; &#0; &#xD800;", "&unknown; & &#; &#xZZ; &#0; &#xD800;"},
        {"&amp", "&amp"},
    };
    for (const auto& c : cases) {
        INFO(c.raw);
        CHECK(xml::unescape(c.raw) == c.text);
    }
}

TEST_CASE("xml::escape round-trips through unescape", "[s3][xml]") {
    const std::string text = "\"etag\" <&> 'x'";
    CHECK(xml::escape(text) == "&quot;etag&quot; &lt;&amp;&gt; &apos;x&apos;");
    CHECK(xml::unescape(xml::escape(text)) == text);
}

TEST_CASE("xml::elements finds every element of a name, empty ones too", "[s3][xml]") {
    const std::string doc =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
        "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        "<IsTruncated>true</IsTruncated>"
        "<Contents><Key>a&amp;b</Key><Size>3</Size><ETag>&quot;x&quot;</ETag></Contents>"
        "<Contents><Key>c</Key><Size>0</Size><ETag/></Contents>"
        "<NextContinuationToken>tok</NextContinuationToken></ListBucketResult>";
    const auto contents = xml::elements(doc, "Contents");
    REQUIRE(contents.size() == 2);
    CHECK(xml::text(contents[0], "Key") == "a&b");
    CHECK(xml::text(contents[0], "ETag") == "\"x\"");
    CHECK(xml::text(contents[1], "ETag") == "");
    CHECK(xml::text(doc, "NextContinuationToken") == "tok");
    CHECK_FALSE(xml::text(doc, "Missing").has_value());
    CHECK(xml::root_name(doc) == "ListBucketResult");
    CHECK(xml::root_name("<Error><Code>NoSuchKey</Code></Error>") == "Error");
    CHECK(xml::root_name("") == "");
}

TEST_CASE("xml::elements does not mistake a longer name or an unclosed element", "[s3][xml]") {
    const std::string doc = "<Upload><Key>k</Key><UploadId>id</UploadId></Upload><Upload><Key>z";
    const auto uploads = xml::elements(doc, "Upload");
    REQUIRE(uploads.size() == 1);  // the second is never closed
    CHECK(xml::text(uploads[0], "UploadId") == "id");
    CHECK(xml::elements(doc, "UploadId").size() == 1);
}
