/* zip.c: the central directory of a zip archive in memory, stored entries
 * only (torch.save writes its entries uncompressed). No inflate: a
 * compressed entry is refused by name. Every offset and size read from the
 * archive is checked against the buffer before it is used. */
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "zip.h"

#define SIG_LOCAL 0x04034b50u
#define SIG_CENTRAL 0x02014b50u
#define SIG_END 0x06054b50u
#define END_BYTES 22            /* the end-of-central-directory record, comment excluded */
#define CENTRAL_BYTES 46
#define LOCAL_BYTES 30

static uint32_t rd16(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }
static uint32_t rd32(const uint8_t *p) { return rd16(p) | rd16(p + 2) << 16; }

/* Can [at, at + len) be read from a buffer of n bytes? */
static int can_read(size_t n, uint64_t at, uint64_t len) { return at <= n && len <= n - at; }

/* The last end-of-central-directory record: it sits within the last
 * 22 + 65535 bytes (its comment is at most 65535 bytes). */
static const uint8_t *find_end(const uint8_t *b, size_t n)
{
    if (n < END_BYTES)
        return NULL;
    size_t lo = n - END_BYTES > 65535 ? n - END_BYTES - 65535 : 0;
    for (size_t at = n - END_BYTES + 1; at-- > lo;)
        if (rd32(b + at) == SIG_END && can_read(n, at + END_BYTES, rd16(b + at + 20)))
            return b + at;
    return NULL;
}

void unr_zip_close(unr_zip *z)
{
    if (!z)
        return;
    free(z->entries);
    z->entries = NULL;
    z->count = 0;
}

unr_status unr_zip_open(const void *bytes, size_t n, const char *src, unr_zip *z, unr_error *err)
{
    const uint8_t *b = bytes;
    memset(z, 0, sizeof *z);
    z->source = src;
    const uint8_t *end = find_end(b, n);
    if (!end)
        return unr_fail(err, UNR_ERR_PARSE, "%s: not a complete zip archive (no end of central "
                        "directory record: truncated?)", src);
    size_t end_at = (size_t)(end - b);
    uint32_t disk = rd16(end + 4), cd_disk = rd16(end + 6);
    uint32_t here = rd16(end + 8), count = rd16(end + 10);
    uint32_t cd_size = rd32(end + 12), cd_at = rd32(end + 16);
    if (count == 0xffff || cd_size == 0xffffffffu || cd_at == 0xffffffffu)
        return unr_fail(err, UNR_ERR_UNSUPPORTED, "%s: a zip64 archive (over 4 GB or 65,535 "
                        "entries) is not supported", src);
    if (disk || cd_disk || here != count)
        return unr_fail(err, UNR_ERR_UNSUPPORTED, "%s: a zip archive split over several disks "
                        "is not supported", src);
    if (count > UNR_ZIP_MAX_ENTRIES)
        return unr_fail(err, UNR_ERR_RANGE, "%s: %u zip entries is over the %d limit", src,
                        count, UNR_ZIP_MAX_ENTRIES);
    if ((uint64_t)cd_at + cd_size > end_at)
        return unr_fail(err, UNR_ERR_RANGE, "%s: the zip central directory (%u bytes at offset "
                        "%u) runs past its end record at %zu: truncated or corrupt", src, cd_size,
                        cd_at, end_at);
    /* Each entry takes at least 46 bytes of the directory: no allocation
     * larger than the directory itself justifies. */
    if ((uint64_t)count * CENTRAL_BYTES > cd_size)
        return unr_fail(err, UNR_ERR_RANGE, "%s: the zip central directory is %u bytes, too small "
                        "for the %u entries it announces", src, cd_size, count);
    z->entries = calloc(count ? count : 1, sizeof *z->entries);
    if (!z->entries)
        return unr_fail(err, UNR_ERR_NOMEM, "%s: out of memory", src);
    size_t at = cd_at, cd_end = (size_t)cd_at + cd_size;
    unr_status st = UNR_OK;
    for (uint32_t i = 0; i < count; i++) {
        if (!can_read(cd_end, at, CENTRAL_BYTES) || rd32(b + at) != SIG_CENTRAL) {
            st = unr_fail(err, UNR_ERR_PARSE, "%s: zip central directory entry %u at offset "
                          "%zu is corrupt", src, i, at);
            break;
        }
        const uint8_t *c = b + at;
        uint32_t name_len = rd16(c + 28), extra_len = rd16(c + 30), comment_len = rd16(c + 32);
        if (!can_read(cd_end, at + CENTRAL_BYTES, (uint64_t)name_len + extra_len + comment_len)) {
            st = unr_fail(err, UNR_ERR_PARSE, "%s: zip central directory entry %u at offset "
                          "%zu runs past the directory", src, i, at);
            break;
        }
        unr_zip_entry *e = &z->entries[i];
        e->name = (const char *)c + CENTRAL_BYTES;
        e->name_len = name_len;
        e->flags = (int)rd16(c + 8);
        e->method = (int)rd16(c + 10);
        e->csize = rd32(c + 20);
        e->size = rd32(c + 24);
        uint32_t local_at = rd32(c + 42);
        int shown = name_len > 200 ? 200 : (int)name_len;
        if (name_len == 0 || name_len > UNR_ZIP_MAX_NAME || memchr(e->name, 0, name_len)) {
            st = unr_fail(err, UNR_ERR_RANGE, "%s: zip entry %u has a name of %u bytes (1..%d, "
                          "no NUL)", src, i, name_len, UNR_ZIP_MAX_NAME);
            break;
        }
        if (e->csize == 0xffffffffu || e->size == 0xffffffffu || local_at == 0xffffffffu) {
            st = unr_fail(err, UNR_ERR_UNSUPPORTED, "%s: zip entry '%.*s' uses zip64 sizes "
                          "(over 4 GB), not supported", src, shown, e->name);
            break;
        }
        /* The data starts after the local header, whose own name and extra
         * field lengths (torch pads the extra field to align the data) may
         * differ from the central directory's. */
        if (!can_read(n, local_at, LOCAL_BYTES) || rd32(b + local_at) != SIG_LOCAL) {
            st = unr_fail(err, UNR_ERR_PARSE, "%s: zip entry '%.*s': no local header at offset "
                          "%u", src, shown, e->name, local_at);
            break;
        }
        uint64_t data_at = (uint64_t)local_at + LOCAL_BYTES + rd16(b + local_at + 26) +
                           rd16(b + local_at + 28);
        if (!can_read(n, data_at, e->csize)) {
            st = unr_fail(err, UNR_ERR_RANGE, "%s: zip entry '%.*s' claims %llu bytes at offset "
                          "%llu, past the end of the %zu-byte file", src, shown, e->name,
                          (unsigned long long)e->csize, (unsigned long long)data_at, n);
            break;
        }
        e->data = b + data_at;
        at += CENTRAL_BYTES + (size_t)name_len + extra_len + comment_len;
        z->count++;
    }
    if (st)
        unr_zip_close(z);
    return st;
}

const unr_zip_entry *unr_zip_find(const unr_zip *z, const char *name)
{
    size_t len = strlen(name);
    for (int i = 0; i < z->count; i++)
        if (z->entries[i].name_len == len && memcmp(z->entries[i].name, name, len) == 0)
            return &z->entries[i];
    return NULL;
}

unr_status unr_zip_data(const unr_zip *z, const unr_zip_entry *e, const uint8_t **data,
                        size_t *size, unr_error *err)
{
    int shown = e->name_len > 200 ? 200 : (int)e->name_len;
    if (e->flags & 1)
        return unr_fail(err, UNR_ERR_UNSUPPORTED, "%s: zip entry '%.*s' is encrypted", z->source,
                        shown, e->name);
    if (e->method != 0)
        return unr_fail(err, UNR_ERR_UNSUPPORTED, "%s: zip entry '%.*s' is compressed (method %d); "
                        "only stored entries are read, as torch.save writes them", z->source,
                        shown, e->name, e->method);
    if (e->size != e->csize)
        return unr_fail(err, UNR_ERR_PARSE, "%s: zip entry '%.*s' is stored, yet says %llu bytes "
                        "uncompressed and %llu stored", z->source, shown, e->name,
                        (unsigned long long)e->size, (unsigned long long)e->csize);
    *data = e->data;
    *size = (size_t)e->csize;
    return UNR_OK;
}
