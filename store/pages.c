#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "store/store_private.h"
#include "util/log.h"

/*
 * The process's share of the database's pages: where the maps are, and
 * the policy of store_trim() (store.h) for letting go of them.
 */

/* A look at /proc/self/statm every TRIM_EVERY calls of store_trim() ... */
#define TRIM_EVERY 4
/* ... and a release once this many file-backed bytes have come since. */
#define TRIM_SLACK ((long)1 << 20)

/*
 * Where LMDB mapped the data file of env: mdb_env_info() tells only of
 * a fixed map, so ask the kernel which mapping is that file.
 */
static void find_map(MDB_env *env, struct store_map *m)
{
    char line[PATH_MAX + 128], file[PATH_MAX];
    const char *dir;
    unsigned long lo, hi;
    size_t n;
    FILE *f;

    m->addr = NULL;
    m->len = 0;
    if (!env || mdb_env_get_path(env, &dir))
        return;
    snprintf(file, sizeof(file), "%s/data.mdb", dir);
    n = strlen(file);
    f = fopen("/proc/self/maps", "r");
    if (!f)
        return;
    while (fgets(line, sizeof(line), f)) {
        size_t len = strcspn(line, "\n");

        line[len] = '\0';
        if (len < n || strcmp(line + len - n, file) ||
            sscanf(line, "%lx-%lx", &lo, &hi) != 2)
            continue;
        m->addr = (void *)lo;
        m->len = hi - lo;
        break;
    }
    fclose(f);
}

void store_map_find(struct store *s)
{
    find_map(s->env, &s->map);
    find_map(s->uenv, &s->umap);
}

/*
 * Drop this process's mappings of the database's pages; they stay in the
 * page cache, shared, and are mapped again at the next touch.
 */
static void release_pages(struct store *s)
{
    if (s->map.addr)
        madvise(s->map.addr, s->map.len, MADV_DONTNEED);
    if (s->umap.addr)
        madvise(s->umap.addr, s->umap.len, MADV_DONTNEED);
}

/* The file-backed bytes this process has resident, or -1. */
static long mapped_bytes(const struct store_trim *t)
{
    char buf[128];
    long size, resident, shared;
    ssize_t n = pread(t->statm, buf, sizeof(buf) - 1, 0);

    if (n <= 0)
        return -1;
    buf[n] = '\0';
    if (sscanf(buf, "%ld %ld %ld", &size, &resident, &shared) != 3)
        return -1;
    return shared * sysconf(_SC_PAGESIZE);
}

void store_trim_init(struct store *s)
{
    struct store_trim *t = &s->trim;

    t->tick = 0;
    t->statm = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    if (t->statm < 0)
        log_debug("no /proc/self/statm (%s): database pages stay mapped",
                  strerror(errno));
    t->base = t->statm < 0 ? -1 : mapped_bytes(t);
}

void store_trim_release(struct store *s)
{
    if (s->trim.statm >= 0)
        close(s->trim.statm);
    s->trim.statm = -1;
}

void store_trim(struct store *s)
{
    struct store_trim *t = &s->trim;
    long now;

    if (t->statm < 0 || ++t->tick < TRIM_EVERY)
        return;
    t->tick = 0;
    now = mapped_bytes(t);
    if (now >= 0 && now - t->base > TRIM_SLACK) {
        release_pages(s);
        t->base = mapped_bytes(t);
    }
}
