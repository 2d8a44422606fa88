// router-unit — folders as pools and files as volumes (router/src/libvirt/
// storage.hpp): path normalisation, formats and sizes from the file, the
// XML clients parse, and who may learn about a path.
#include "libvirt/storage.hpp"

#include <fleet/test/support.hpp>

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

using namespace fleet::router;
namespace storage = fleet::router::libvirt::storage;

TEST_CASE("storage: paths are absolute and normal, or refused", "[storage]")
{
    CHECK(storage::normal_path("/srv/images") == "/srv/images");
    CHECK(storage::normal_path("/srv/images/") == "/srv/images");
    CHECK(storage::normal_path("/") == "/");
    for (auto bad : {"", "srv", "/srv//x", "/srv/../etc", "/./x", "/srv/.."})
        CHECK_FALSE(storage::normal_path(bad).has_value());
    CHECK(storage::folder_of("/srv/a.raw") == "/srv");
    CHECK(storage::folder_of("/a.raw") == "/");
    CHECK(storage::base_name("/srv/a.raw") == "a.raw");
}

TEST_CASE("storage: a qcow2 volume's capacity is its header's, a raw one's its size", "[storage]")
{
    fleet::test::TempDir dir;
    // A qcow2 header: magic, version 3, no backing file, then size (offset 24).
    std::string qcow2("QFI\xfb\0\0\0\3", 8);
    qcow2 += std::string(16, '\0') + std::string("\0\0\0\0\x04\0\0\0", 8) + std::string(100, '\0');
    fleet::test::write_file(dir / "root.qcow2", qcow2);
    fleet::test::write_file(dir / "data.raw", std::string(5000, 'x'));
    fleet::test::write_file(dir / ".hidden", "x");
    auto root = Principal::local(0);
    auto q = storage::volume(root, dir / "root.qcow2");
    REQUIRE(q);
    CHECK(q->format == "qcow2");
    CHECK(q->capacity == (std::uint64_t{1} << 26));
    CHECK(q->physical == qcow2.size());
    auto r = storage::volume(root, dir / "data.raw");
    REQUIRE(r);
    CHECK(r->format == "raw");
    CHECK(r->capacity == 5000);
    CHECK_FALSE(storage::volume(root, dir / "missing"));
    CHECK_FALSE(storage::volume(root, dir.path()));  // a folder is a pool, not a volume
    CHECK(storage::pool_folder(root, dir.path() + "/") == dir.path());
    CHECK_FALSE(storage::pool_folder(root, dir / "data.raw"));
    CHECK(storage::volume_names(dir.path()) == std::vector<std::string>{"data.raw", "root.qcow2"});

    auto xml = storage::volume_xml(*q);
    CHECK(fleet::test::contains(xml, "<key>" + dir / "root.qcow2" + "</key>"));
    CHECK(fleet::test::contains(xml, "<format type='qcow2'/>"));
    CHECK(fleet::test::contains(xml, "<capacity unit='bytes'>67108864</capacity>"));
    auto pool = storage::pool_xml(dir.path(), {100, 40, 60});
    CHECK(fleet::test::contains(pool, "<pool type='dir'>"));
    CHECK(fleet::test::contains(pool, "<path>" + dir.path() + "</path>"));
    CHECK(fleet::test::contains(pool, "<available unit='bytes'>60</available>"));
    CHECK(storage::pool_uuid(dir.path()) == storage::pool_uuid(dir.path()));
    CHECK(storage::pool_uuid(dir.path()) != storage::pool_uuid(dir / "x"));
}

TEST_CASE("storage: a client learns only about paths it could read itself", "[storage]")
{
    if (geteuid() != 0) {
        WARN("skipped: needs root (files of another user)");
        return;
    }
    fleet::test::TempDir dir;
    ::chmod(dir.path().c_str(), 0755);
    fleet::test::write_file(dir / "secret.raw", "s");
    fleet::test::write_file(dir / "open.raw", "o");
    ::chmod((dir / "secret.raw").c_str(), 0600);
    ::chmod((dir / "open.raw").c_str(), 0644);
    auto nobody = Principal::local(65534);
    CHECK_FALSE(storage::volume(nobody, dir / "secret.raw"));
    CHECK(storage::volume(nobody, dir / "open.raw"));
    CHECK(storage::pool_folder(nobody, dir.path()));
    ::chmod(dir.path().c_str(), 0700);  // the folder closed: nothing in it either
    CHECK_FALSE(storage::volume(nobody, dir / "open.raw"));
    CHECK_FALSE(storage::pool_folder(nobody, dir.path()));
    CHECK_FALSE(storage::volume(Principal::anonymous(), dir / "open.raw"));
    CHECK_FALSE(storage::volume(Principal::remote("CN=x"), dir / "open.raw"));
}
