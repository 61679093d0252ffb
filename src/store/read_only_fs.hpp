// A FileSystem that reads through to another and refuses every change: the
// store of a dry run. A write reaching it is a bug in the caller, so it throws
// StoreError naming the call and the path rather than changing anything.
#pragma once

#include <imapkeep/store/file_system.hpp>

#include <memory>

namespace imapkeep::store {

std::shared_ptr<FileSystem> read_only_file_system(std::shared_ptr<FileSystem> inner);

}  // namespace imapkeep::store
