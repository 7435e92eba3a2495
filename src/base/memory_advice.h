// Hints to the OS about memory the engine will read soon (madvise). Thread-safe; each call
// costs one system call and never changes the bytes.
#pragma once

#include <cstddef>

namespace pocket {

// Hints that [p, p + len) will be read soon. For a file mapping the OS starts reading the pages
// that are not in memory now, alongside other such ranges, instead of one page fault at a time
// when they are touched; for other memory, or resident pages, it does nothing. Any range works
// (it is widened to whole pages); null or empty ranges are ignored.
void AdviseWillNeed(const void* p, size_t len);

// Hints that the pages of [p, p + len) (widened to whole pages) are not needed anymore.
// Only for read-only file mappings, whose dropped pages are read from the file again when
// touched (MappedFile::AdviseDontNeed checks that): on anonymous memory the OS would zero them.
void AdviseDontNeedFileMapped(const void* p, size_t len);

}  // namespace pocket
