/*
 * pydict.c - dicts, instance attributes, module globals and ints of
 * another process's Python objects (see pydict.h).
 *
 * Dicts (all versions): a PyDictObject points to its keys object (ma_keys)
 * and, for a split table, to a separate values array (ma_values). The keys
 * object holds a hash index (dk_indices) followed by the entries in
 * insertion order; we never hash, we scan the entries. 3.10 sizes the
 * index by dk_size (1, 2, 4 or 8-byte slots); 3.11+ give its byte size as
 * 1 << dk_log2_index_bytes, and dk_kind says whether entries are
 * {hash, key, value} (general) or {key, value} (str keys only). Instance
 * attributes: 3.10 keeps a dict at the type's tp_dictoffset; 3.11+ classes
 * with Py_TPFLAGS_MANAGED_DICT keep them as values beside the object
 * (split against the type's ht_cached_keys) until a real dict is made
 * (hs_managed_dict in pylayout.h says where, per version).
 */
#include "pydict.h"

#include <stdlib.h>
#include <string.h>

#include "pyobj.h"

#define MAX_ENTRIES 65536

static int word(const hs_target *t, uint64_t addr, uint64_t *out) {
    return hs_proc_read(&t->proc, addr, out, sizeof *out);
}

int hs_py_is_type(const hs_target *t, uint64_t obj, const char *name) {
    char type[64];
    return obj && hs_read_type_name(&t->proc, &t->layout, obj, type, sizeof type) == 0 &&
           strcmp(type, name) == 0;
}

/* The str read into buf (need bytes: a compact ASCII object's header and
 * characters) is exactly `name`, of len characters. */
static int str_is(const hs_target *t, const uint8_t *buf, const char *name, size_t len) {
    const hs_pylayout *l = &t->layout;
    int64_t length;
    uint32_t state;
    memcpy(&length, buf + l->unicode_length, sizeof length);
    memcpy(&state, buf + l->unicode_state, sizeof state);
    int compact = (state >> 5) & 1, ascii = (state >> 6) & 1; /* pyobj.c: PEP 393 state bits */
    return compact && ascii && length == (int64_t)len &&
           memcmp(buf + l->unicode_ascii_size, name, len) == 0;
}

/* The live entries of a keys object, with values from `values` (a split
 * table's array, 0 for a combined table, where they sit in the entries).
 * `capacity` bounds the values array (0: as many as entries). Returns the
 * number of items (malloc'ed into *out) or -1. */
static long keys_items(const hs_target *t, uint64_t keys, uint64_t values, size_t capacity,
                       hs_py_item **out) {
    const hs_pylayout *l = &t->layout;
    uint8_t head[64];
    if (!keys || l->dictkeys_indices + 8 > (int64_t)sizeof head ||
        hs_proc_read(&t->proc, keys, head, (size_t)l->dictkeys_indices) != 0)
        return -1;
    int64_t nentries, index_bytes;
    memcpy(&nentries, head + l->dictkeys_nentries, sizeof nentries);
    size_t esize = (size_t)l->dict_entry_size, key_at = 8, value_at = 16;
    if (l->dictkeys_size >= 0) {
        int64_t size;
        memcpy(&size, head + l->dictkeys_size, sizeof size);
        if (size <= 0 || size > 4 * MAX_ENTRIES || (size & (size - 1)))
            return -1;
        /* DK_IXSIZE, Objects/dict-common.h (3.10) */
        index_bytes = size * (size <= 0xff ? 1 : size <= 0xffff ? 2 : 4);
    } else {
        unsigned log2_index = head[l->dictkeys_log2_index_bytes];
        if (log2_index > 24)
            return -1;
        index_bytes = (int64_t)1 << log2_index;
        if (head[l->dictkeys_kind] != 0) { /* DICT_KEYS_UNICODE or _SPLIT: {key, value} */
            esize = (size_t)l->dict_unicode_entry_size;
            key_at = 0;
            value_at = 8;
        }
    }
    if (nentries < 0 || nentries > MAX_ENTRIES)
        return -1;
    size_t n = (size_t)nentries;
    if (values && capacity && n > capacity)
        n = capacity;
    uint8_t *entries = malloc(n * esize + 1);
    uint64_t *vals = values ? malloc(n * 8 + 1) : NULL;
    hs_py_item *items = malloc(n * sizeof *items + 1);
    long count = -1;
    if (entries && items && (!values || vals) &&
        (n == 0 || hs_proc_read(&t->proc, keys + (uint64_t)l->dictkeys_indices + (uint64_t)index_bytes,
                                entries, n * esize) == 0) &&
        (!values || n == 0 ||
         hs_proc_read(&t->proc, values + (uint64_t)l->dictvalues_values, vals, n * 8) == 0)) {
        count = 0;
        for (size_t i = 0; i < n; i++) {
            uint64_t key, value;
            memcpy(&key, entries + i * esize + key_at, 8);
            if (values)
                value = vals[i];
            else
                memcpy(&value, entries + i * esize + value_at, 8);
            if (key && value) /* deleted entries have no value (3.10: a dummy key) */
                items[count++] = (hs_py_item){key, value};
        }
    }
    free(entries);
    free(vals);
    if (count < 0)
        free(items);
    else
        *out = items;
    return count;
}

long hs_py_dict_items(const hs_target *t, uint64_t dict, hs_py_item **out) {
    const hs_pylayout *l = &t->layout;
    uint64_t keys, values;
    if (!hs_py_is_type(t, dict, "dict") || word(t, dict + (uint64_t)l->dict_keys, &keys) != 0 ||
        word(t, dict + (uint64_t)l->dict_values, &values) != 0)
        return -1;
    return keys_items(t, keys, values, 0, out);
}

/* The value of the str key `name` among items, or 0. The keys are read
 * FIND_BATCH at a time in one system call each (sys.modules has hundreds:
 * one read per key made a lookup of a module cost a millisecond). A key
 * that does not read ends a batch's read early: the keys after it are
 * read again from the next one on. */
#define FIND_BATCH 128
static uint64_t find_str(const hs_target *t, const hs_py_item *items, long count, const char *name) {
    size_t len = strlen(name);
    size_t need = (size_t)t->layout.unicode_ascii_size + len;
    if (need > 256)
        return 0;
    uint8_t *bufs = malloc(FIND_BATCH * need);
    hs_remote_iov iov[FIND_BATCH];
    uint64_t found = 0;
    long i = 0;
    while (bufs && i < count && !found) {
        size_t n = 0;
        for (long k = i; k < count && n < FIND_BATCH; k++, n++)
            iov[n] = (hs_remote_iov){items[k].key, bufs + n * need, need};
        size_t got = hs_proc_readv(&t->proc, iov, n);
        for (size_t k = 0; k < got && !found; k++)
            if (str_is(t, bufs + k * need, name, len))
                found = items[i + (long)k].value;
        i += (long)(got < n ? got + 1 : n); /* past the one that did not read */
    }
    free(bufs);
    return found;
}

long hs_py_set_keys(const hs_target *t, uint64_t set, uint64_t **out) {
    const hs_pylayout *l = &t->layout;
    uint64_t mask, table;
    *out = NULL;
    if (!hs_py_is_type(t, set, "set") || word(t, set + (uint64_t)l->set_mask, &mask) != 0 ||
        word(t, set + (uint64_t)l->set_table, &table) != 0 || mask >= 4 * MAX_ENTRIES ||
        (mask & (mask + 1)))
        return -1;
    size_t slots = (size_t)mask + 1;
    uint64_t *entries = malloc(slots * 16); /* setentry {key, hash}, Include/cpython/setobject.h */
    uint64_t *keys = malloc(slots * sizeof *keys);
    long count = -1;
    if (entries && keys && hs_proc_read(&t->proc, table, entries, slots * 16) == 0) {
        count = 0;
        for (size_t i = 0; i < slots; i++)
            if (entries[2 * i])
                keys[count++] = entries[2 * i];
    }
    free(entries);
    if (count < 0)
        free(keys);
    else
        *out = keys;
    return count;
}

uint64_t hs_py_dict_get(const hs_target *t, uint64_t dict, const char *name) {
    hs_py_item *items = NULL;
    long count = hs_py_dict_items(t, dict, &items);
    uint64_t value = count > 0 ? find_str(t, items, count, name) : 0;
    free(items);
    return value;
}

/* Split values of an instance, looked up against its type's cached keys. */
static uint64_t values_get(const hs_target *t, uint64_t type, uint64_t values, size_t capacity,
                           const char *name) {
    uint64_t keys;
    if (word(t, type + (uint64_t)t->layout.heaptype_cached_keys, &keys) != 0)
        return 0;
    hs_py_item *items = NULL;
    long count = keys_items(t, keys, values, capacity, &items);
    uint64_t value = count > 0 ? find_str(t, items, count, name) : 0;
    free(items);
    return value;
}

/* An instance attribute kept in its __dict__ (or managed values), or 0. */
uint64_t hs_py_attr(const hs_target *t, uint64_t obj, const char *name) {
    const hs_pylayout *l = &t->layout;
    uint64_t type, flags, ptr;
    if (word(t, obj + (uint64_t)l->object_type, &type) != 0 ||
        word(t, type + (uint64_t)l->type_flags, &flags) != 0)
        return 0;
    if (l->managed == HS_MANAGED_NONE || !(flags & (uint64_t)l->type_managed_dict_flag)) {
        int64_t offset;
        if (word(t, type + (uint64_t)l->type_dictoffset, (uint64_t *)&offset) != 0 || offset <= 0 ||
            offset > 4096 || word(t, obj + (uint64_t)offset, &ptr) != 0)
            return 0;
        return ptr ? hs_py_dict_get(t, ptr, name) : 0;
    }
    switch (l->managed) {
    case HS_MANAGED_311:
        if (word(t, obj - 32, &ptr) == 0 && ptr)
            return values_get(t, type, ptr, 0, name);
        return word(t, obj - 24, &ptr) == 0 && ptr ? hs_py_dict_get(t, ptr, name) : 0;
    case HS_MANAGED_312:
        if (word(t, obj - 24, &ptr) != 0 || !ptr)
            return 0;
        return ptr & 1 ? values_get(t, type, ptr + 1, 0, name) : hs_py_dict_get(t, ptr, name);
    case HS_MANAGED_313: {
        if (word(t, obj - 24, &ptr) == 0 && ptr)
            return hs_py_dict_get(t, ptr, name);
        if (!(flags & (uint64_t)l->type_inline_values_flag))
            return 0;
        /* PyDictValues {capacity, size, embedded, valid, values[]} right
         * after the object header; `valid` 0 once moved to a dict */
        uint64_t values = obj + (uint64_t)l->object_type + 8;
        uint8_t head[4];
        if (hs_proc_read(&t->proc, values, head, sizeof head) != 0 || !head[3])
            return 0;
        return values_get(t, type, values, head[0], name);
    }
    default:
        return 0;
    }
}

/* A non-negative int below 2^64 (thread idents are pointer-sized). */
int hs_py_u64(const hs_target *t, uint64_t addr, uint64_t *out) {
    const hs_pylayout *l = &t->layout;
    if (!hs_py_is_type(t, addr, "int"))
        return -1;
    uint64_t ndigits, size;
    int64_t off = l->long_tag >= 0 ? l->long_tag : l->varobject_size;
    if (word(t, addr + (uint64_t)off, &size) != 0)
        return -1;
    if (l->long_tag >= 0) { /* lv_tag: ndigits << 3 | sign (2: negative), longintrepr.h */
        if ((size & 3) == 2)
            return -1;
        ndigits = size >> 3;
    } else {
        if ((int64_t)size < 0)
            return -1;
        ndigits = size;
    }
    uint32_t digits[3] = {0, 0, 0}; /* 30-bit digits */
    if (ndigits > 3 || (ndigits && hs_proc_read(&t->proc, addr + (uint64_t)l->long_digit, digits,
                                                 ndigits * 4) != 0))
        return -1;
    *out = (uint64_t)digits[0] | ((uint64_t)digits[1] << 30) | ((uint64_t)digits[2] << 60);
    return 0;
}

uint64_t hs_py_module_global(const hs_target *t, const char *module, const char *name) {
    const hs_pylayout *l = &t->layout;
    uint64_t interp = hs_target_main_interp(t), modules, mod, mdict;
    if (!interp || l->interp_modules < 0 ||
        word(t, interp + (uint64_t)l->interp_modules, &modules) != 0)
        return 0;
    mod = hs_py_dict_get(t, modules, module);
    if (!hs_py_is_type(t, mod, "module") || word(t, mod + (uint64_t)l->module_dict, &mdict) != 0)
        return 0;
    return hs_py_dict_get(t, mdict, name);
}
