/* zip.h: reading the entries of a zip archive held in memory (the format of
 * torch.save since PyTorch 1.6). Internal to the core. */
#ifndef UNR_ZIP_H
#define UNR_ZIP_H

#include <stddef.h>
#include <stdint.h>
#include "unravel.h"

/* Limits that protect against absurd archives before anything is allocated. */
#define UNR_ZIP_MAX_ENTRIES 65535      /* a ResNet-1202 checkpoint has about 7,300 */
#define UNR_ZIP_MAX_NAME 1024          /* bytes in one entry's name */

typedef struct {
    const char *name;        /* inside the archive's bytes, not NUL-terminated */
    size_t name_len;
    int method;              /* 0: stored; anything else is refused by unr_zip_data */
    int flags;
    uint64_t size;           /* uncompressed */
    uint64_t csize;          /* compressed: the bytes at data */
    const uint8_t *data;     /* inside the archive: csize bytes, bounds-checked */
} unr_zip_entry;

typedef struct {
    const char *source;      /* names the archive in messages (borrowed) */
    int count;
    unr_zip_entry *entries;  /* [count], central-directory order */
} unr_zip;

/* Reads the central directory of the n bytes at bytes (borrowed: they must
 * outlive z). Every offset and size is checked against the buffer. */
unr_status unr_zip_open(const void *bytes, size_t n, const char *source, unr_zip *z,
                        unr_error *err);
void unr_zip_close(unr_zip *z);
/* The entry named exactly name, or NULL. */
const unr_zip_entry *unr_zip_find(const unr_zip *z, const char *name);
/* A stored entry's bytes; compressed or encrypted entries are refused,
 * naming the entry. */
unr_status unr_zip_data(const unr_zip *z, const unr_zip_entry *e, const uint8_t **data,
                        size_t *size, unr_error *err);

#endif
