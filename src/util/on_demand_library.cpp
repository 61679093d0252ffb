#include <dlfcn.h>

#include <imapkeep/util/on_demand_library.hpp>

namespace imapkeep::util {

OnDemandLibrary::OnDemandLibrary(std::vector<std::string> sonames, std::string package,
                                 std::string feature)
    : m_sonames(std::move(sonames)), m_package(std::move(package)), m_feature(std::move(feature)) {
    std::string why;
    for (const auto& name : m_sonames) {
        // RTLD_LOCAL: its symbols serve only the lookups below, never another
        // library's unresolved names.
        m_handle = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (m_handle) return;
        if (const char* error = dlerror()) why = error;
    }
    throw LibraryMissing(m_sonames.front() + " could not be loaded (install " + m_package +
                         ", needed for " + m_feature + "): " + why);
}

OnDemandLibrary::~OnDemandLibrary() {
    // Never dlclose: libcurl and libpq keep thread-local state and atexit
    // handlers that must outlive any static object calling into them.
}

void* OnDemandLibrary::symbol(const char* name) const {
    dlerror();
    void* address = dlsym(m_handle, name);
    if (!address)
        throw LibraryMissing(m_sonames.front() + " has no " + name + " (install a " + m_package +
                             " with it, needed for " + m_feature + ")");
    return address;
}

}  // namespace imapkeep::util
