/*
 * eh_frame.c - the step rule of a function's frame from the DWARF call
 * frame information the loader mapped with its object (see eh_frame.h).
 *
 * Formats: the .eh_frame_hdr binary search table and the .eh_frame CIE /
 * FDE records are those of the Linux Standard Base Core Specification
 * ("Exception Frames", "The .eh_frame_hdr section", "DWARF Extensions",
 * pointer encodings DW_EH_PE_*); the call frame instructions are DWARF 4,
 * section 6.4.2 (DW_CFA_*, with the GNU extensions GNU_args_size and
 * GNU_negative_offset_extended); x86-64 register numbers are those of the
 * System V AMD64 psABI (figure 3.36: 6 rbp, 7 rsp, 16 return address).
 *
 * The parsing works on any copy of an object's bytes (hs_eh_image): in
 * this process, the object as the loader mapped it (found with
 * _dl_find_object where glibc has it, 2.35+, lock-free, or
 * dl_iterate_phdr); for another process, the sampler's copy of the file's
 * .eh_frame_hdr and .eh_frame (src/sampler/native_objects.c). Every read
 * stays within the image. Nothing here allocates: it runs inside malloc.
 */
#define _GNU_SOURCE
#include "eh_frame.h"

#include <string.h>

#if HS_HAVE_EH_FRAME

#if HS_HAVE_FAST_UNWIND
#include <dlfcn.h>
#include <link.h>
#endif

#define REG_RBP 6
#define REG_RSP 7
#define REG_RA 16

/* DW_EH_PE_*: the low nibble is the format, the next the application. */
#define PE_OMIT 0xff
#define PE_ABSPTR 0x00
#define PE_ULEB128 0x01
#define PE_UDATA2 0x02
#define PE_UDATA4 0x03
#define PE_UDATA8 0x04
#define PE_SLEB128 0x09
#define PE_SDATA2 0x0a
#define PE_SDATA4 0x0b
#define PE_SDATA8 0x0c
#define PE_PCREL 0x10
#define PE_DATAREL 0x30

/* A cursor over the image's bytes. */
typedef struct {
    const uint8_t *p, *end;
    int bad;
} reader;

/* The address (in the object's own address space) of a byte of the image,
 * and the byte at an address; NULL outside the image. */
static uint64_t address_of(const hs_eh_image *img, const uint8_t *p) {
    return img->start + (uint64_t)(p - img->bytes);
}

static const uint8_t *bytes_at(const hs_eh_image *img, uint64_t address) {
    if (address < img->start || address - img->start >= img->len)
        return NULL;
    return img->bytes + (address - img->start);
}

static inline int have(reader *r, size_t n) {
    if (r->bad || (size_t)(r->end - r->p) < n) {
        r->bad = 1;
        return 0;
    }
    return 1;
}

static uint64_t u8(reader *r) {
    return have(r, 1) ? *r->p++ : 0;
}

static uint64_t fixed(reader *r, size_t n) {
    uint64_t v = 0;
    if (!have(r, n))
        return 0;
    memcpy(&v, r->p, n); /* little-endian */
    r->p += n;
    return v;
}

static uint64_t uleb(reader *r) {
    uint64_t v = 0;
    for (unsigned shift = 0; have(r, 1); shift += 7) {
        uint8_t b = *r->p++;
        if (shift < 64)
            v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return v;
    }
    return 0;
}

static int64_t sleb(reader *r) {
    uint64_t v = 0;
    unsigned shift = 0;
    uint8_t b = 0x80;
    while ((b & 0x80) && have(r, 1)) {
        b = *r->p++;
        if (shift < 64)
            v |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
    }
    if (shift < 64 && (b & 0x40))
        v |= ~(uint64_t)0 << shift;
    return (int64_t)v;
}

/* A pointer in encoding `enc`, as an address of the object; `datarel` is
 * the base for DW_EH_PE_datarel (the address of .eh_frame_hdr). `img` gives
 * DW_EH_PE_pcrel its base (the field's own address); NULL when only the
 * size matters. Indirect pointers are refused. */
static uint64_t encoded(reader *r, const hs_eh_image *img, uint8_t enc, uint64_t datarel) {
    uint64_t at = img ? address_of(img, r->p) : 0, v;
    switch (enc & 0x0f) {
    case PE_ABSPTR: v = fixed(r, 8); break;
    case PE_ULEB128: v = uleb(r); break;
    case PE_UDATA2: v = fixed(r, 2); break;
    case PE_UDATA4: v = fixed(r, 4); break;
    case PE_UDATA8: v = fixed(r, 8); break;
    case PE_SLEB128: v = (uint64_t)sleb(r); break;
    case PE_SDATA2: v = (uint64_t)(int64_t)(int16_t)fixed(r, 2); break;
    case PE_SDATA4: v = (uint64_t)(int64_t)(int32_t)fixed(r, 4); break;
    case PE_SDATA8: v = fixed(r, 8); break;
    default: r->bad = 1; return 0;
    }
    switch (enc & 0x70) {
    case 0: break;
    case PE_PCREL: v += at; break;
    case PE_DATAREL: v += datarel; break;
    default: r->bad = 1; return 0;
    }
    if (enc & 0x80) /* indirect */
        r->bad = 1;
    return v;
}

/* ---- the CFA program ---------------------------------------------------- */

typedef struct {
    int cfa_reg;
    int64_t cfa_offset;
    int rbp_how, ra_how; /* 0 same, 1 saved at CFA + offset, 2 undefined */
    int64_t rbp_offset, ra_offset;
} frame_state;

typedef struct {
    uint64_t code_align;
    int64_t data_align;
    uint64_t ra_reg;
    uint8_t fde_enc;
    int has_z;
    const uint8_t *insns, *insns_end;
} cie_info;

enum { RUN_OK, RUN_NOT_SIMPLE };

/* Sets the rule of register `reg` (only rbp and the return address
 * matter: others are never read back). */
static int set_rule(frame_state *st, uint64_t reg, int how, int64_t offset, uint64_t ra_reg) {
    if (reg == REG_RBP)
        st->rbp_how = how, st->rbp_offset = offset;
    else if (reg == ra_reg)
        st->ra_how = how, st->ra_offset = offset;
    return RUN_OK;
}

/* The one CFA expression ordinary code has: that of a PLT (the linker's
 * stubs that jump to shared functions), "rsp + off, plus 8 once past the
 * push in the 16-byte entry": DW_OP_breg7 off; DW_OP_breg16 0; DW_OP_lit15;
 * DW_OP_and; DW_OP_litN; DW_OP_ge; DW_OP_lit3; DW_OP_shl; DW_OP_plus (as
 * GNU ld writes it for .plt; DWARF 4, 2.5.1, opcodes 0x77, 0x80, 0x30 + n,
 * 0x1a, 0x2a, 0x24, 0x22). Sets the CFA offset for `pc`; 0, or -1 for any
 * other expression. */
static int plt_cfa(const uint8_t *expr, uint64_t len, uint64_t pc, frame_state *st) {
    static const uint8_t tail[] = {0x80, 0x00, 0x3f, 0x1a, 0x00, 0x2a, 0x33, 0x24, 0x22};
    if (len != 2 + sizeof tail || expr[0] != 0x77 || (expr[1] & 0x80))
        return -1;
    for (size_t i = 0; i < sizeof tail; i++)
        if (i != 4 && expr[2 + i] != tail[i])
            return -1;
    uint8_t lit = expr[2 + 4];
    if (lit < 0x30 || lit > 0x4f)
        return -1;
    int64_t off = (int64_t)(expr[1] & 0x7f) - ((expr[1] & 0x40) ? 128 : 0); /* one-byte sleb */
    st->cfa_reg = REG_RSP;
    st->cfa_offset = off + ((pc & 15) >= (uint64_t)(lit - 0x30) ? 8 : 0);
    return 0;
}

/* Runs CFA instructions [p, end) from location `loc` while the location is
 * at most `target`. `initial` is the state after the CIE's instructions
 * (for DW_CFA_restore), NULL while running those. */
static int run(const cie_info *cie, const uint8_t *p, const uint8_t *end, uint64_t loc,
               uint64_t target, frame_state *st, const frame_state *initial) {
    frame_state saved[8];
    int depth = 0;
    reader r = {p, end, 0};
    while (r.p < r.end && !r.bad) {
        uint8_t op = (uint8_t)u8(&r);
        uint64_t reg, delta = 0;
        int64_t off;
        switch (op >> 6) {
        case 1: /* DW_CFA_advance_loc */
            delta = (op & 0x3f) * cie->code_align;
            break;
        case 2: /* DW_CFA_offset */
            off = (int64_t)uleb(&r) * cie->data_align;
            set_rule(st, op & 0x3f, 1, off, cie->ra_reg);
            continue;
        case 3: /* DW_CFA_restore */
            if (!initial)
                return RUN_NOT_SIMPLE;
            reg = op & 0x3f;
            if (reg == REG_RBP)
                st->rbp_how = initial->rbp_how, st->rbp_offset = initial->rbp_offset;
            else if (reg == cie->ra_reg)
                st->ra_how = initial->ra_how, st->ra_offset = initial->ra_offset;
            continue;
        default:
            switch (op) {
            case 0x00: /* nop */
                continue;
            case 0x02: delta = fixed(&r, 1) * cie->code_align; break; /* advance_loc1 */
            case 0x03: delta = fixed(&r, 2) * cie->code_align; break; /* advance_loc2 */
            case 0x04: delta = fixed(&r, 4) * cie->code_align; break; /* advance_loc4 */
            case 0x05: /* offset_extended */
                reg = uleb(&r);
                set_rule(st, reg, 1, (int64_t)uleb(&r) * cie->data_align, cie->ra_reg);
                continue;
            case 0x06: /* restore_extended */
                reg = uleb(&r);
                if (!initial)
                    return RUN_NOT_SIMPLE;
                if (reg == REG_RBP)
                    st->rbp_how = initial->rbp_how, st->rbp_offset = initial->rbp_offset;
                else if (reg == cie->ra_reg)
                    st->ra_how = initial->ra_how, st->ra_offset = initial->ra_offset;
                continue;
            case 0x07: /* undefined */
                set_rule(st, uleb(&r), 2, 0, cie->ra_reg);
                continue;
            case 0x08: /* same_value */
                set_rule(st, uleb(&r), 0, 0, cie->ra_reg);
                continue;
            case 0x09: /* register: reg's value is in another register */
                reg = uleb(&r);
                (void)uleb(&r);
                if (reg == REG_RBP || reg == cie->ra_reg)
                    return RUN_NOT_SIMPLE;
                continue;
            case 0x0a: /* remember_state */
                if (depth == 8)
                    return RUN_NOT_SIMPLE;
                saved[depth++] = *st;
                continue;
            case 0x0b: /* restore_state */
                if (depth == 0)
                    return RUN_NOT_SIMPLE;
                *st = saved[--depth];
                continue;
            case 0x0c: /* def_cfa */
                st->cfa_reg = (int)uleb(&r);
                st->cfa_offset = (int64_t)uleb(&r);
                continue;
            case 0x0d: /* def_cfa_register */
                st->cfa_reg = (int)uleb(&r);
                continue;
            case 0x0e: /* def_cfa_offset */
                st->cfa_offset = (int64_t)uleb(&r);
                continue;
            case 0x11: /* offset_extended_sf */
                reg = uleb(&r);
                set_rule(st, reg, 1, sleb(&r) * cie->data_align, cie->ra_reg);
                continue;
            case 0x12: /* def_cfa_sf */
                st->cfa_reg = (int)uleb(&r);
                st->cfa_offset = sleb(&r) * cie->data_align;
                continue;
            case 0x13: /* def_cfa_offset_sf */
                st->cfa_offset = sleb(&r) * cie->data_align;
                continue;
            case 0x10: /* expression */
            case 0x16: /* val_expression */
                reg = uleb(&r);
                off = (int64_t)uleb(&r);
                if (reg == REG_RBP || reg == cie->ra_reg || !have(&r, (size_t)off))
                    return RUN_NOT_SIMPLE;
                r.p += off;
                continue;
            case 0x14: /* val_offset */
            case 0x15: /* val_offset_sf */
                reg = uleb(&r);
                if (op == 0x14)
                    (void)uleb(&r);
                else
                    (void)sleb(&r);
                if (reg == REG_RBP || reg == cie->ra_reg)
                    return RUN_NOT_SIMPLE;
                continue;
            case 0x0f: /* def_cfa_expression: the PLT's, evaluated for `target` */
                off = (int64_t)uleb(&r);
                if (!have(&r, (size_t)off) || plt_cfa(r.p, (uint64_t)off, target, st) != 0)
                    return RUN_NOT_SIMPLE;
                r.p += off;
                continue;
            case 0x2e: /* GNU_args_size */
                (void)uleb(&r);
                continue;
            case 0x2f: /* GNU_negative_offset_extended */
                reg = uleb(&r);
                set_rule(st, reg, 1, -(int64_t)uleb(&r) * cie->data_align, cie->ra_reg);
                continue;
            default: /* set_loc, def_cfa_expression, vendor opcodes */
                return RUN_NOT_SIMPLE;
            }
        }
        if (loc + delta > target)
            return RUN_OK;
        loc += delta;
    }
    return r.bad ? RUN_NOT_SIMPLE : RUN_OK;
}

/* Reads the CIE at `p`. 0, or -1 when it is not one this file handles. */
static int read_cie(const uint8_t *p, const hs_eh_image *img, cie_info *cie) {
    reader r = {p, img->bytes + img->len, 0};
    uint64_t length = fixed(&r, 4);
    if (length == 0 || length == 0xffffffffu || !have(&r, length))
        return -1;
    r.end = r.p + length;
    if (fixed(&r, 4) != 0) /* CIE id */
        return -1;
    uint64_t version = u8(&r);
    if (version != 1 && version != 3 && version != 4)
        return -1;
    const char *aug = (const char *)r.p;
    size_t aug_len = strnlen(aug, (size_t)(r.end - r.p));
    if (!have(&r, aug_len + 1))
        return -1;
    r.p += aug_len + 1;
    if (version == 4) { /* address and segment selector sizes */
        if (u8(&r) != 8 || u8(&r) != 0)
            return -1;
    }
    cie->code_align = uleb(&r);
    cie->data_align = sleb(&r);
    cie->ra_reg = version == 1 ? u8(&r) : uleb(&r);
    cie->fde_enc = PE_ABSPTR;
    cie->has_z = aug_len > 0 && aug[0] == 'z';
    if (aug_len && !cie->has_z)
        return -1; /* "eh" and other old forms */
    if (cie->has_z) {
        uint64_t zlen = uleb(&r);
        if (!have(&r, zlen))
            return -1;
        reader z = {r.p, r.p + zlen, 0};
        for (size_t i = 1; i < aug_len; i++) {
            switch (aug[i]) {
            case 'R': cie->fde_enc = (uint8_t)u8(&z); break;
            case 'L': (void)u8(&z); break;
            case 'P': {
                uint8_t enc = (uint8_t)u8(&z);
                (void)encoded(&z, NULL, enc & 0x7f, 0); /* skipped: only its size matters */
                break;
            }
            default: return -1; /* 'S' (signal frames), 'B', unknown */
            }
        }
        if (z.bad)
            return -1;
        r.p += zlen;
    }
    if (r.bad || cie->ra_reg != REG_RA)
        return -1;
    cie->insns = r.p;
    cie->insns_end = r.end;
    return 0;
}

void hs_eh_frame_rule_in(const hs_eh_image *img, uint64_t pc, hs_step_rule *rule) {
    memset(rule, 0, sizeof *rule);
    rule->pc = (uintptr_t)pc;
    rule->kind = HS_STEP_NOT_SIMPLE;
    const uint8_t *hdr = bytes_at(img, img->hdr), *end = img->bytes + img->len;
    if (!hdr)
        return;
    /* .eh_frame_hdr: version 1, encodings of eh_frame_ptr, fde_count and
     * the table, then the sorted (initial location, FDE address) table. */
    reader r = {hdr, end, 0};
    uint64_t version = u8(&r);
    uint8_t ptr_enc = (uint8_t)u8(&r), count_enc = (uint8_t)u8(&r), table_enc = (uint8_t)u8(&r);
    if (version != 1 || table_enc != (PE_DATAREL | PE_SDATA4) || count_enc == PE_OMIT)
        return;
    (void)encoded(&r, img, ptr_enc, img->hdr);
    uint64_t count = encoded(&r, img, count_enc, img->hdr);
    if (r.bad || !count || count > (uint64_t)(end - r.p) / 8 || !have(&r, count * 8))
        return;
    const uint8_t *table = r.p;
    size_t lo = 0, hi = (size_t)count; /* the last entry starting at or before pc */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        int32_t start;
        memcpy(&start, table + mid * 8, 4);
        if (img->hdr + (uint64_t)(int64_t)start <= pc)
            lo = mid;
        else
            hi = mid;
    }
    int32_t start_rel, fde_rel;
    memcpy(&start_rel, table + lo * 8, 4);
    memcpy(&fde_rel, table + lo * 8 + 4, 4);
    if (img->hdr + (uint64_t)(int64_t)start_rel > pc)
        return;
    const uint8_t *fde = bytes_at(img, img->hdr + (uint64_t)(int64_t)fde_rel);
    if (!fde)
        return;
    /* The FDE: length, CIE pointer (back from that field), pc_begin,
     * pc_range, augmentation data, instructions. */
    reader f = {fde, end, 0};
    uint64_t length = fixed(&f, 4);
    if (length == 0 || length == 0xffffffffu || !have(&f, length))
        return;
    f.end = f.p + length;
    const uint8_t *cie_field = f.p;
    uint64_t cie_back = fixed(&f, 4);
    cie_info cie;
    if (!cie_back || cie_back > (uint64_t)(cie_field - img->bytes) ||
        read_cie(cie_field - cie_back, img, &cie) != 0)
        return;
    uint64_t begin = encoded(&f, img, cie.fde_enc, img->hdr);
    uint64_t range = encoded(&f, NULL, cie.fde_enc & 0x0f, 0);
    if (f.bad || pc < begin || pc - begin >= range)
        return;
    if (cie.has_z) {
        uint64_t zlen = uleb(&f);
        if (!have(&f, zlen))
            return;
        f.p += zlen;
    }
    frame_state st = {REG_RSP, 8, 0, 1, 0, -8}, initial;
    if (run(&cie, cie.insns, cie.insns_end, begin, UINT64_MAX, &st, NULL) != RUN_OK)
        return;
    initial = st;
    if (run(&cie, f.p, f.end, begin, pc, &st, &initial) != RUN_OK)
        return;
    if ((st.cfa_reg != REG_RSP && st.cfa_reg != REG_RBP) || st.cfa_offset < 0 ||
        st.cfa_offset > INT32_MAX || st.rbp_offset < INT32_MIN || st.rbp_offset > INT32_MAX ||
        st.ra_offset < INT32_MIN || st.ra_offset > INT32_MAX)
        return;
    if (st.ra_how == 2) {
        rule->kind = HS_STEP_LAST;
        return;
    }
    if (st.ra_how != 1)
        return;
    rule->kind = HS_STEP_SIMPLE;
    rule->cfa_from_rbp = st.cfa_reg == REG_RBP;
    rule->cfa_offset = (int32_t)st.cfa_offset;
    rule->ra_offset = (int32_t)st.ra_offset;
    rule->rbp_saved = st.rbp_how == 1;
    rule->rbp_undefined = st.rbp_how == 2;
    rule->rbp_offset = (int32_t)st.rbp_offset;
}

#else

void hs_eh_frame_rule_in(const hs_eh_image *img, uint64_t pc, hs_step_rule *rule) {
    (void)img;
    memset(rule, 0, sizeof *rule);
    rule->pc = (uintptr_t)pc;
    rule->kind = HS_STEP_NOT_SIMPLE;
}

#endif

#if HS_HAVE_FAST_UNWIND

/* ---- finding an object of this process ------------------------------------ */

typedef struct {
    uintptr_t pc, lo, hi, hdr;
} object_search;

static int search_object(struct dl_phdr_info *info, size_t size, void *arg) {
    (void)size;
    object_search *s = arg;
    uintptr_t lo = UINTPTR_MAX, hi = 0, hdr = 0;
    int contains = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t a = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD) {
            uintptr_t b = a + ph->p_memsz;
            lo = a < lo ? a : lo;
            hi = b > hi ? b : hi;
            contains |= s->pc >= a && s->pc < b;
        } else if (ph->p_type == PT_GNU_EH_FRAME) {
            hdr = a;
        }
    }
    if (!contains)
        return 0;
    s->lo = lo, s->hi = hi, s->hdr = hdr;
    return 1;
}

/* The object's mapped range and its .eh_frame_hdr; 0 when not found. */
static int find_object(uintptr_t pc, object_search *s) {
    memset(s, 0, sizeof *s);
    s->pc = pc;
#ifdef DLFO_STRUCT_HAS_EH_DBASE /* glibc 2.35+ */
    struct dl_find_object found;
    if (_dl_find_object((void *)pc, &found) == 0) {
        s->lo = (uintptr_t)found.dlfo_map_start;
        s->hi = (uintptr_t)found.dlfo_map_end;
        s->hdr = (uintptr_t)found.dlfo_eh_frame;
        return s->hdr != 0;
    }
#endif
    return dl_iterate_phdr(search_object, s) && s->hdr;
}

void hs_eh_frame_rule(uintptr_t pc, hs_step_rule *rule) {
    object_search o;
    if (!find_object(pc, &o) || o.hdr < o.lo || o.hdr >= o.hi) {
        memset(rule, 0, sizeof *rule);
        rule->pc = pc;
        rule->kind = HS_STEP_NOT_SIMPLE;
        return;
    }
    /* The object as mapped: its bytes are at their own addresses. */
    hs_eh_image img = {(const uint8_t *)o.lo, o.lo, o.hi - o.lo, o.hdr};
    hs_eh_frame_rule_in(&img, pc, rule);
}

#else

void hs_eh_frame_rule(uintptr_t pc, hs_step_rule *rule) {
    memset(rule, 0, sizeof *rule);
    rule->pc = pc;
    rule->kind = HS_STEP_NOT_SIMPLE;
}

#endif
