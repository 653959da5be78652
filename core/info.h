/* info.h: INFO assembled from registered section writers. Each module
 * registers the sections it owns (name, whether "INFO" without arguments
 * shows it, and a writer that appends "field:value\r\n" lines). */
#ifndef TANDEM_INFO_H
#define TANDEM_INFO_H

#include "core/str.h"

typedef str info_writer(str s, void *data);

/* name is the title as INFO prints it ("Server", "CPU"); requests match it
 * case-insensitively. */
void info_register(const char *name, int in_default, info_writer *writer, void *data);
/* INFO [section ...]: "default" (no arguments), "all", "everything", or
 * section names (case-insensitive). Sections are in registration order. */
str info_generate(int argc, str *sections);

#endif
