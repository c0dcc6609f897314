// mimalloc (Debian's libmimalloc-dev). Only the `tide` executable links it: as a shared
// library ahead of libc it takes over malloc/free for the whole process (Swift objects, Lua's
// heap, tensor buffers). Embedders keep whatever allocator their own program uses.
#include <mimalloc.h>
