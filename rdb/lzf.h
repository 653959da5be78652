/* lzf.h: LZF compression in the format of Marc Lehmann's liblzf, which RDB
 * files use for long strings. The compressed data is a sequence of items,
 * each starting with a control byte:
 *
 *   000LLLLL [L+1 bytes]          a literal run of 1..32 bytes
 *   LLLOOOOO [E] OOOOOOOO         a back reference: copy L+2 bytes (when
 *                                 L is 7, an extra byte E follows and the
 *                                 count is 9+E) starting D bytes back in the
 *                                 output, D = (OOOOO << 8 | next byte) + 1
 *
 * so a reference copies 3..264 bytes from up to 8192 bytes back (it may
 * overlap what it writes, which repeats a pattern). Decompression checks
 * every byte it reads and writes against both buffers: malformed input is
 * refused, never followed. A leaf. */
#ifndef TANDEM_RDB_LZF_H
#define TANDEM_RDB_LZF_H

#include <stddef.h>

/* Compresses in_len bytes into out. Returns the compressed size, or 0 when
 * it does not fit in out_len bytes (or in_len is 0 or 4 GB or more). */
size_t lzf_compress(const void *in, size_t in_len, void *out, size_t out_len);
/* Decompresses into out: the decompressed size, or 0 when the input is
 * malformed (a run or reference cut short, a reference before the start)
 * or the output would exceed out_len. With out NULL it only measures:
 * the same checks and result, nothing written. */
size_t lzf_decompress(const void *in, size_t in_len, void *out, size_t out_len);

#endif
