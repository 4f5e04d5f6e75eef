/*
 * pprof_schema.h - the pprof format as hotscope writes and reads it: the
 * field numbers of profile.proto, and the conventions hotscope adds on top
 * (which are what make model -> pprof -> model exact). Shared by the
 * writer (render/pprof.c) and the reader (read/pprof_read.c).
 *
 * Field numbers: github.com/google/pprof, proto/profile.proto.
 */
#ifndef HOTSCOPE_PPROF_SCHEMA_H
#define HOTSCOPE_PPROF_SCHEMA_H

/* message Profile */
enum {
    PPROF_PROFILE_SAMPLE_TYPE = 1,   /* repeated ValueType */
    PPROF_PROFILE_SAMPLE = 2,        /* repeated Sample */
    PPROF_PROFILE_MAPPING = 3,       /* repeated Mapping */
    PPROF_PROFILE_LOCATION = 4,      /* repeated Location */
    PPROF_PROFILE_FUNCTION = 5,      /* repeated Function */
    PPROF_PROFILE_STRING_TABLE = 6,  /* repeated string; [0] must be "" */
    PPROF_PROFILE_DROP_FRAMES = 7,   /* int64 string index */
    PPROF_PROFILE_KEEP_FRAMES = 8,   /* int64 string index */
    PPROF_PROFILE_TIME_NANOS = 9,    /* int64 */
    PPROF_PROFILE_DURATION_NANOS = 10, /* int64 */
    PPROF_PROFILE_PERIOD_TYPE = 11,  /* ValueType */
    PPROF_PROFILE_PERIOD = 12,       /* int64 */
    PPROF_PROFILE_COMMENT = 13,      /* repeated int64 string index */
    PPROF_PROFILE_DEFAULT_SAMPLE_TYPE = 14, /* int64 string index */
};

/* message ValueType */
enum { PPROF_VALUETYPE_TYPE = 1, PPROF_VALUETYPE_UNIT = 2 };

/* message Sample */
enum { PPROF_SAMPLE_LOCATION_ID = 1, PPROF_SAMPLE_VALUE = 2, PPROF_SAMPLE_LABEL = 3 };

/* message Label */
enum { PPROF_LABEL_KEY = 1, PPROF_LABEL_STR = 2, PPROF_LABEL_NUM = 3, PPROF_LABEL_NUM_UNIT = 4 };

/* message Mapping */
enum {
    PPROF_MAPPING_ID = 1,
    PPROF_MAPPING_MEMORY_START = 2,
    PPROF_MAPPING_MEMORY_LIMIT = 3,
    PPROF_MAPPING_FILE_OFFSET = 4,
    PPROF_MAPPING_FILENAME = 5,
    PPROF_MAPPING_BUILD_ID = 6,
    PPROF_MAPPING_HAS_FUNCTIONS = 7,
    PPROF_MAPPING_HAS_FILENAMES = 8,
    PPROF_MAPPING_HAS_LINE_NUMBERS = 9,
    PPROF_MAPPING_HAS_INLINE_FRAMES = 10,
};

/* message Location */
enum {
    PPROF_LOCATION_ID = 1,
    PPROF_LOCATION_MAPPING_ID = 2,
    PPROF_LOCATION_ADDRESS = 3,
    PPROF_LOCATION_LINE = 4,
    PPROF_LOCATION_IS_FOLDED = 5,
};

/* message Line */
enum { PPROF_LINE_FUNCTION_ID = 1, PPROF_LINE_LINE = 2 };

/* message Function */
enum {
    PPROF_FUNCTION_ID = 1,
    PPROF_FUNCTION_NAME = 2,
    PPROF_FUNCTION_SYSTEM_NAME = 3,
    PPROF_FUNCTION_FILENAME = 4,
    PPROF_FUNCTION_START_LINE = 5,
};

/* ---- hotscope's conventions ------------------------------------------------
 *
 * Frame kinds (model.h) travel as mappings: a location's mapping says
 * whether its frame is Python code, a builtin, a thread or another
 * synthetic frame. Mapping id = kind + 1, named by these file names. */
#define HS_PPROF_MAPPING_PYTHON "[python]"
#define HS_PPROF_MAPPING_NATIVE "[native]"
#define HS_PPROF_MAPPING_THREAD "[thread]"
#define HS_PPROF_MAPPING_OTHER "[synthetic]"

/* The thread a stack ran in (its thread frame, first under the root) is a
 * sample label, so Pyroscope and pprof can group and filter by it:
 * "thread" = the thread's name, "thread_index" = its index in the
 * profile's thread table (which tells apart threads of the same name). */
#define HS_PPROF_LABEL_THREAD "thread"
#define HS_PPROF_LABEL_THREAD_INDEX "thread_index"

/* Comments are "key=value" metadata, plus one comment per thread:
 * "hotscope.thread=INDEX OS_TID IDENT WALL_NS CPU_NS NAME". */
#define HS_PPROF_THREAD_COMMENT "hotscope.thread="

#endif
