// The daily download budget's ledger (schema 7): per account and UTC day,
// added to in the caller's transaction, gone with a rollback.
#include <catch2/catch.hpp>

#include "catalog_backends.hpp"

using namespace imapkeep;

TEST_CASE("download usage adds up per account and day, and survives reopening", "[store][budget]") {
    const std::string name = IMAPKEEP_CATALOG_BACKEND();
    INFO("catalog backend: " << name);
    auto backend = test::make_catalog_backend(name);
    if (!backend) return;
    {
        auto catalog = backend->open();
        auto a = catalog->ensure_account("a");
        auto b = catalog->ensure_account("b");
        CHECK(catalog->downloaded_on(a, 20000) == 0);
        catalog->add_downloaded(a, 20000, 1000);
        catalog->add_downloaded(a, 20000, 234);
        catalog->add_downloaded(a, 20001, 7);
        catalog->add_downloaded(b, 20000, 5);
        CHECK(catalog->downloaded_on(a, 20000) == 1234);
        CHECK(catalog->downloaded_on(a, 20001) == 7);
        CHECK(catalog->downloaded_on(b, 20000) == 5);

        catalog->begin();
        catalog->add_downloaded(a, 20000, 1ull << 40);
        catalog->rollback();
        CHECK(catalog->downloaded_on(a, 20000) == 1234);
    }
    auto reopened = backend->open();
    CHECK(reopened->downloaded_on(*reopened->find_account("a"), 20000) == 1234);
}

TEST_CASE("upload usage (restore's daily budget) adds up apart from downloads, and rolls back",
          "[store][budget]") {
    const std::string name = IMAPKEEP_CATALOG_BACKEND();
    INFO("catalog backend: " << name);
    auto backend = test::make_catalog_backend(name);
    if (!backend) return;
    {
        auto catalog = backend->open();
        auto a = catalog->ensure_account("a");
        CHECK(catalog->uploaded_on(a, 20000) == 0);
        catalog->add_downloaded(a, 20000, 1000);
        catalog->add_uploaded(a, 20000, 300);
        catalog->add_uploaded(a, 20000, 12);
        catalog->add_uploaded(a, 20001, 5);
        CHECK(catalog->uploaded_on(a, 20000) == 312);
        CHECK(catalog->uploaded_on(a, 20001) == 5);
        // Each counter its own: a restore's uploads never spend a backup's budget.
        CHECK(catalog->downloaded_on(a, 20000) == 1000);
        CHECK(catalog->downloaded_on(a, 20001) == 0);

        catalog->begin();
        catalog->add_uploaded(a, 20000, 1ull << 40);
        catalog->rollback();
        CHECK(catalog->uploaded_on(a, 20000) == 312);
    }
    auto reopened = backend->open();
    CHECK(reopened->uploaded_on(*reopened->find_account("a"), 20000) == 312);
}
