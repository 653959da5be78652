/* config.h: the directive registry. Each module registers its own directives
 * at start-up (name, type, storage, default, bounds, flags, and an optional
 * apply callback run after a change). The registry loads redis.conf-syntax
 * files and command-line overrides, answers CONFIG GET (glob patterns) and
 * CONFIG SET, and rewrites the file it started from (CONFIG REWRITE).
 * Every Redis 7.0 directive is known: those that tandem does not implement
 * are accepted and stored as text, shown by CONFIG GET, and listed by
 * config_unimplemented_in_use() for the start-up warning. */
#ifndef TANDEM_CONFIG_H
#define TANDEM_CONFIG_H

#include "core/str.h"

/* Flags. */
#define CONFIG_IMMUTABLE (1 << 0)   /* CONFIG SET refuses it */
#define CONFIG_UNIMPLEMENTED (1 << 1) /* a Redis directive with no effect here */
#define CONFIG_SENSITIVE (1 << 2)   /* never logged (passwords) */
#define CONFIG_MULTI_ARG (1 << 3)   /* string taking any number of arguments,
                                       kept as one line of (quoted) text */
#define CONFIG_HIDDEN (1 << 4)      /* CONFIG GET shows it to its exact name only */
#define CONFIG_FILE_ONLY (1 << 5)   /* a file directive, not a parameter: CONFIG
                                       GET and SET do not know it */

typedef struct config_enum {
    const char *name;
    int value;
} config_enum; /* arrays end with {NULL, 0} */

/* Called after a directive's value changed (file load or CONFIG SET) with
 * the data pointer given at registration. Return 0, or -1 with *err set to a
 * static text: the old value is then restored and the change refused. */
typedef int config_apply_fn(void *data, const char **err);

/* For directives with their own syntax (bind, save, client-output-buffer-limit,
 * ...): set parses the arguments (argv[0..argc) are the values, without the
 * name) into the owner's storage; get formats the current value as CONFIG GET
 * shows it and as CONFIG REWRITE writes it (one line's arguments). */
typedef struct config_special_ops {
    int (*set)(void *data, int argc, str *argv, const char **err);
    str (*get)(void *data);
} config_special_ops;

void config_init(void);
void config_free(void);

void config_register_bool(const char *name, int *var, int def, int flags,
                          config_apply_fn *apply, void *data);
void config_register_ll(const char *name, long long *var, long long def, long long min,
                        long long max, int flags, config_apply_fn *apply, void *data);
/* Like ll, accepting units: 1k 1kb 1m 1mb 1g 1gb (k=1000, kb=1024, ...). */
void config_register_memory(const char *name, long long *var, long long def, long long min,
                            long long max, int flags, config_apply_fn *apply, void *data);
/* *var is a str owned by the registry (NULL when def is NULL). */
void config_register_string(const char *name, str *var, const char *def, int flags,
                            config_apply_fn *apply, void *data);
void config_register_enum(const char *name, int *var, const config_enum *values, int def,
                          int flags, config_apply_fn *apply, void *data);
/* def is the default as directive text (parsed with ops->set at init). */
void config_register_special(const char *name, const config_special_ops *ops, void *data,
                             const char *def, int flags);
/* Another name for a registered directive (slaveof for replicaof). */
void config_register_alias(const char *alias, const char *name);
/* True when name (or alias) is registered, whatever the case. */
int config_exists(const char *name);
/* Registers every Redis 7.0 directive not registered yet (config_redis.c):
 * call it after all modules registered theirs. */
void config_register_redis_unimplemented(void);

/* Loads a file (with include). On error returns -1 and sets *err to a
 * message naming the file, the line number, the line and the reason. */
int config_load_file(const char *path, str *err);
/* Loads directives given as text (command-line overrides), same errors with
 * origin as the file name. */
int config_load_text(const char *text, const char *origin, str *err);

/* 1 while a file or command-line text is being loaded, 0 for CONFIG SET:
 * directives that accumulate over several lines (save) need to know. */
int config_loading(void);

/* CONFIG SET name value [name value ...]: all or nothing. Returns 0, or -1
 * with *err the error text (without the leading '-'). */
int config_set(int argc, str *argv, str *err);
/* Appends name/value pairs of every directive matching one of the glob
 * patterns to a flat array of strs (names and values alternating). */
str *config_get(int npatterns, str *patterns, int *count);
/* Rewrites the file given to config_load_file. 0 or -1 with *err. */
int config_rewrite(str *err);
/* The file loaded at start, or NULL. */
const char *config_file_path(void);
/* Space-separated names of unimplemented directives whose value differs from
 * Redis's default, or NULL when there are none. Caller frees. */
str config_unimplemented_in_use(void);

#endif
