/*
 * info.c -- what GetInfo reports, and the disk database (the ddb.* lines of
 * the top link's descriptor): get, list, set.
 *
 * Everything comes from the top link's descriptor in memory; setting a key
 * rewrites the descriptor (link.c), and a failed rewrite puts the old
 * database back.  A raw disk (disk_open_raw) has a database copied from its
 * opener and no descriptor to write: setting a key is DISK_E_NOTCAPABLE.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "disk/chain.h"
#include "disk/error.h"
#include "disk/names.h"

static uint32_t ddb_u32(const struct descriptor *desc, const char *key,
                        uint32_t dflt)
{
  const char *v = desc_ddb_get(desc, key);
  char *end;
  unsigned long x;

  if (!v || !*v)
    return dflt;
  errno = 0;
  x = strtoul(v, &end, 10);
  if (errno || *end || x > UINT32_MAX)
    return dflt;
  return (uint32_t)x;
}

void disk_get_info(const struct disk *d, struct disk_info *out)
{
  const struct link *l = d->links[0];
  const struct descriptor *desc = &l->desc;
  const char *ad = desc_ddb_get(desc, "ddb.adapterType");

  memset(out, 0, sizeof *out);
  out->capacity = l->capacity;
  out->phys.cylinders = ddb_u32(desc, "ddb.geometry.cylinders", 0);
  out->phys.heads = ddb_u32(desc, "ddb.geometry.heads", 0);
  out->phys.sectors = ddb_u32(desc, "ddb.geometry.sectors", 0);
  out->bios.cylinders =
      ddb_u32(desc, "ddb.geometry.biosCylinders", out->phys.cylinders);
  out->bios.heads = ddb_u32(desc, "ddb.geometry.biosHeads", out->phys.heads);
  out->bios.sectors =
      ddb_u32(desc, "ddb.geometry.biosSectors", out->phys.sectors);
  out->adapter = !ad                               ? DISK_ADAPTER_UNKNOWN
                 : strcasecmp(ad, "ide") == 0      ? DISK_ADAPTER_IDE
                 : strcasecmp(ad, "buslogic") == 0 ? DISK_ADAPTER_BUSLOGIC
                 : strcasecmp(ad, "lsilogic") == 0 ? DISK_ADAPTER_LSILOGIC
                                                   : DISK_ADAPTER_UNKNOWN;
  out->kind = l->kind;
  out->num_links = (int)d->n;
  out->parent_hint = desc->parent_hint;
  out->uuid = desc_ddb_get(desc, "ddb.uuid");
  out->logical_sector_size = ddb_u32(desc, "ddb.logicalSectorSize", 512);
  out->physical_sector_size = ddb_u32(desc, "ddb.physicalSectorSize", 512);
}

int disk_meta_get(const struct disk *d, const char *key, const char **out)
{
  char k[300];

  *out = NULL;
  if (!disk_ddb_key(key, k, sizeof k))
    *out = desc_ddb_get(&d->links[0]->desc, k);
  if (!*out)
    return disk_fail(DISK_E_KEY, "%s: no metadata key \"%.64s\"", disk_path(d),
                     key);
  return DISK_OK;
}

int disk_meta_keys(const struct disk *d, char *buf, size_t len, size_t *need)
{
  const struct descriptor *desc = &d->links[0]->desc;
  size_t total = 1, i, pos = 0;

  for (i = 0; i < desc->n_ddb; i++)
    total += strlen(desc->ddb[i].key) - 4 + 1;
  *need = total;
  if (!buf || len < total)
    return disk_fail(DISK_E_TOOSMALL,
                     "%s: the metadata keys need %zu bytes, the buffer has "
                     "%zu",
                     disk_path(d), total, buf ? len : 0);
  for (i = 0; i < desc->n_ddb; i++) {
    size_t kl = strlen(desc->ddb[i].key) - 4 + 1;

    memcpy(buf + pos, desc->ddb[i].key + 4, kl);
    pos += kl;
  }
  buf[pos] = '\0';
  return DISK_OK;
}

int disk_meta_set(struct disk *d, const char *key, const char *val)
{
  struct link *l = d->links[0];
  struct descriptor saved;
  char k[300];
  size_t i;
  int st;

  if (l->raw)
    return link_write_desc(l); /* DISK_E_NOTCAPABLE, with its detail */
  if (!l->writable)
    return disk_fail(DISK_E_READONLY, "%s: opened read-only", l->path);
  if (disk_ddb_key(key, k, sizeof k) || !desc_value_ok(val))
    return disk_fail(DISK_E_ARG,
                     "%s: metadata key \"%.64s\" or its value is not valid",
                     l->path, key);
  /* Keep a copy of the ddb so a failed rewrite leaves the state as it was. */
  memset(&saved, 0, sizeof saved);
  for (i = 0; i < l->desc.n_ddb; i++) {
    st = desc_ddb_set(&saved, l->desc.ddb[i].key, l->desc.ddb[i].value);
    if (st) {
      desc_free(&saved);
      return st;
    }
  }
  st = desc_ddb_set(&l->desc, k, val);
  if (!st)
    st = link_write_desc(l);
  if (st) {
    struct desc_kv *tmp = l->desc.ddb;
    size_t tn = l->desc.n_ddb;

    l->desc.ddb = saved.ddb;
    l->desc.n_ddb = saved.n_ddb;
    saved.ddb = tmp;
    saved.n_ddb = tn;
  }
  desc_free(&saved);
  return st;
}
