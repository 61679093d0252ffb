// A shared library loaded the first time a feature needs it (dlopen), not at
// program start. libcurl (OAuth2, S3) and libpq (the PostgreSQL catalog) pull
// in about 30 more libraries (GnuTLS, Kerberos, LDAP...) whose loading and
// constructors cost every run ~4 ms, a sixth of a run that finds nothing new,
// though most runs use neither (issue 10, no-change run).
//
// Errors: LibraryMissing when no listed file loads or a symbol is absent; its
// text names the file, the Debian package to install and the feature.
// Thread-safe: load() may be called from any thread; the handle stays open for
// the life of the process.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace imapkeep::util {

class LibraryMissing : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

class OnDemandLibrary {
  public:
    // `sonames`: tried in order ("libpq.so.5"). `package` and `feature` only
    // shape the error text ("libpq5", "a PostgreSQL catalog").
    OnDemandLibrary(std::vector<std::string> sonames, std::string package, std::string feature);
    ~OnDemandLibrary();
    OnDemandLibrary(const OnDemandLibrary&) = delete;
    OnDemandLibrary& operator=(const OnDemandLibrary&) = delete;

    // The address of `name`. Throws LibraryMissing.
    void* symbol(const char* name) const;

    // `name` as the function type F (decltype(&::the_function)).
    template <class F>
    F function(const char* name) const {
        return reinterpret_cast<F>(symbol(name));
    }

  private:
    std::vector<std::string> m_sonames;
    std::string m_package;
    std::string m_feature;
    void* m_handle = nullptr;
};

}  // namespace imapkeep::util
