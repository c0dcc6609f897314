// zlib for .npz (zip) files: CRC-32 and raw deflate/inflate. zlib's init functions are macros,
// which Swift cannot call, so these small wrappers do the whole job in one call each.
#include <stddef.h>
#include <zlib.h>

static inline unsigned long tide_crc32(const void *p, size_t n) {
  unsigned long c = crc32(0L, Z_NULL, 0);
  const unsigned char *b = (const unsigned char *)p;
  while (n > 0) {
    unsigned chunk = n > 0x40000000u ? 0x40000000u : (unsigned)n;
    c = crc32(c, b, chunk);
    b += chunk;
    n -= chunk;
  }
  return c;
}

// Inflates raw deflate data (no zlib header) into dst of exactly dst_len bytes.
// Returns 0 on success, -1 on corrupt data or a size mismatch.
static inline int tide_inflate_raw(const void *src, size_t src_len, void *dst, size_t dst_len) {
  z_stream s = {0};
  if (inflateInit2(&s, -15) != Z_OK) return -1;
  s.next_in = (Bytef *)src;
  s.avail_in = (uInt)src_len;
  s.next_out = (Bytef *)dst;
  s.avail_out = (uInt)dst_len;
  int rc = inflate(&s, Z_FINISH);
  size_t produced = s.total_out;
  inflateEnd(&s);
  return (rc == Z_STREAM_END && produced == dst_len) ? 0 : -1;
}

// Deflates src (raw deflate, level 6) into dst (capacity *dst_len); sets *dst_len.
// Returns 0 on success, -1 if dst is too small or zlib fails.
static inline int tide_deflate_raw(const void *src, size_t src_len, void *dst, size_t *dst_len) {
  z_stream s = {0};
  if (deflateInit2(&s, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) return -1;
  s.next_in = (Bytef *)src;
  s.avail_in = (uInt)src_len;
  s.next_out = (Bytef *)dst;
  s.avail_out = (uInt)*dst_len;
  int rc = deflate(&s, Z_FINISH);
  *dst_len = s.total_out;
  deflateEnd(&s);
  return rc == Z_STREAM_END ? 0 : -1;
}

static inline size_t tide_deflate_bound(size_t n) { return n + n / 1000 + 64 + (n >> 12) + (n >> 14) + (n >> 25) + 13; }
