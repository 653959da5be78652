/* info.c: the INFO section registry (see info.h). */
#include "core/info.h"

#include <string.h>
#include <strings.h>

#include "core/panic.h"

#define INFO_MAX_SECTIONS 32

static struct {
    const char *name;
    int in_default;
    info_writer *writer;
    void *data;
} sections[INFO_MAX_SECTIONS];
static int nsections;

void info_register(const char *name, int in_default, info_writer *writer, void *data)
{
    tassert(nsections < INFO_MAX_SECTIONS);
    sections[nsections].name = name;
    sections[nsections].in_default = in_default;
    sections[nsections].writer = writer;
    sections[nsections++].data = data;
}

static int section_wanted(int i, int argc, str *args)
{
    if (argc == 0) return sections[i].in_default;
    for (int a = 0; a < argc; a++) {
        if (!strcasecmp(args[a], "all") || !strcasecmp(args[a], "everything")) return 1;
        if (!strcasecmp(args[a], "default") && sections[i].in_default) return 1;
        if (!strcasecmp(args[a], sections[i].name)) return 1;
    }
    return 0;
}

str info_generate(int argc, str *args)
{
    str s = str_empty();
    for (int i = 0; i < nsections; i++) {
        if (!section_wanted(i, argc, args)) continue;
        if (str_len(s)) s = str_cat(s, "\r\n");
        s = str_cat_fmt(s, "# %s\r\n", sections[i].name);
        s = sections[i].writer(s, sections[i].data);
    }
    return s;
}

