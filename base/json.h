/* The one JSON header: a thin face over yajl (tree parser + generator) so the rest of ctr never
 * includes yajl directly and the library can be swapped in one place. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

typedef struct yajl_val_s ctr_json; /* parsed value, owned by the root */

enum ctr_json_type { CTR_JSON_NULL, CTR_JSON_BOOL, CTR_JSON_NUMBER, CTR_JSON_STRING, CTR_JSON_ARRAY,
                     CTR_JSON_OBJECT };

/* Deeper documents are refused before parsing: no file ctr reads nests past a dozen levels, and
 * half of yajl's generator limit (YAJL_MAX_DEPTH) leaves room to write a parsed tree back inside
 * another document. */
#define CTR_JSON_MAX_DEPTH 64
int ctr_json_parse(const char *text, ctr_json **ret, struct ctr_error *err);
void ctr_json_free(ctr_json *v);
static inline void ctr_json_freep(ctr_json **v) { ctr_json_free(*v); }
#define _cleanup_json_ __attribute__((cleanup(ctr_json_freep)))

enum ctr_json_type ctr_json_type(const ctr_json *v);
const char *ctr_json_type_name(const ctr_json *v);
size_t ctr_json_len(const ctr_json *v); /* object members or array elements */
const char *ctr_json_key(const ctr_json *obj, size_t i);
ctr_json *ctr_json_at(const ctr_json *v, size_t i);
ctr_json *ctr_json_get(const ctr_json *obj, const char *key);
const char *ctr_json_string(const ctr_json *v);
bool ctr_json_bool(const ctr_json *v);
bool ctr_json_is_integer(const ctr_json *v);
/* False for numbers yajl could not represent (overflowing integers and doubles like 1e999). */
bool ctr_json_number_ok(const ctr_json *v);
/* A double is truncated toward zero, saturating at the int64_t range. */
int64_t ctr_json_int(const ctr_json *v);
double ctr_json_double(const ctr_json *v);

/* Generator: pretty-printed, errors are programming errors (abort). */
struct ctr_json_gen;
struct ctr_json_gen *ctr_json_gen_new(bool pretty);
void ctr_json_gen_free(struct ctr_json_gen *g);
static inline void ctr_json_gen_freep(struct ctr_json_gen **g) { ctr_json_gen_free(*g); }
#define _cleanup_json_gen_ __attribute__((cleanup(ctr_json_gen_freep)))
void ctr_json_obj_open(struct ctr_json_gen *g);
void ctr_json_obj_close(struct ctr_json_gen *g);
void ctr_json_arr_open(struct ctr_json_gen *g);
void ctr_json_arr_close(struct ctr_json_gen *g);
void ctr_json_key_(struct ctr_json_gen *g, const char *k);
void ctr_json_str(struct ctr_json_gen *g, const char *s); /* NULL -> null */
void ctr_json_int_(struct ctr_json_gen *g, int64_t v);
void ctr_json_dbl(struct ctr_json_gen *g, double v);
void ctr_json_boolean(struct ctr_json_gen *g, bool v);
void ctr_json_null(struct ctr_json_gen *g);
/* Returns the document text (with a trailing newline), valid until more is generated or the
 * generator is freed; asking twice for the same document returns the same text. */
const char *ctr_json_gen_text(struct ctr_json_gen *g, size_t *ret_len);
