/*
 * attach.c -- VDDK's Attach: continuing a chain into another one.
 *
 * Attach appends a second chain's links below a chain whose bottom link
 * names a parent it did not open (a redo log opened SINGLE_LINK): the same
 * capacity and CID rules as an open apply, and the chains may not share a
 * file (disk_file ids).  When the child's parentFileNameHint does not lead
 * to the parent's top file -- checked by resolving and opening the hint
 * through the child's vfs and comparing ids -- a writable child of the same
 * vfs gets its hint rewritten; otherwise the attachment holds for this
 * handle only.  See docs/disk.md ("Attach") for the rules and the
 * assumptions behind them.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "disk/chain.h"
#include "disk/error.h"
#include "disk/names.h"
#include "util/log.h"

int disk_attach_check(const struct disk *parent, const struct disk *child)
{
  const struct link *bottom, *ptop;
  size_t i, j;

  if (!parent || !child || parent == child || !parent->n || !child->n)
    return disk_fail(DISK_E_ARG, "attach: two distinct open disks needed");
  bottom = child->links[child->n - 1];
  ptop = parent->links[0];
  if (!bottom->desc.parent_hint)
    return disk_fail(DISK_E_ROOTLINK,
                     "%s: a base disk (no parentFileNameHint) cannot "
                     "continue into %s: attach a redo log opened SINGLE_LINK",
                     bottom->path, ptop->path);
  if (disk_capacity(child) != disk_capacity(parent))
    return disk_fail(DISK_E_CAPACITY,
                     "%s: capacity %" PRIu64 " sectors, its parent %s has "
                     "%" PRIu64,
                     bottom->path, disk_capacity(child), ptop->path,
                     disk_capacity(parent));
  if (bottom->desc.parent_cid != ptop->desc.cid)
    return disk_fail(
        DISK_E_CID, "%s: parent %s has CID %08x, the child expects %08x",
        bottom->path, ptop->path, ptop->desc.cid, bottom->desc.parent_cid);
  if (child->n + parent->n > DISK_MAX_LINKS)
    return disk_fail(DISK_E_TOODEEP, "%s: attaching makes more than %d links",
                     bottom->path, DISK_MAX_LINKS);
  for (i = 0; i < child->n; i++)
    for (j = 0; j < parent->n; j++)
      if (link_same_file(child->links[i], parent->links[j]))
        return disk_fail(DISK_E_CHAIN, "%s is in both chains",
                         parent->links[j]->path);
  return DISK_OK;
}

/* True when bottom's parentFileNameHint leads to ptop's file.  A hint that
 * cannot be resolved or opened leads nowhere (that failure is not
 * reported: it is what attaching repairs); DISK_E_NOMEM is. */
static int hint_leads_to(const struct link *bottom, const struct link *ptop,
                         bool *out)
{
  const struct disk_vfs *vfs = bottom->vfs;
  struct disk_file *f = NULL;
  char *name;
  int st;

  *out = false;
  name = vfs->resolve(vfs, bottom->path, bottom->desc.parent_hint, &st);
  if (!name)
    return st == DISK_E_NOMEM ? st : DISK_OK;
  st = vfs->open(vfs, name, 0, &f);
  free(name);
  if (st == DISK_E_NOMEM)
    return st;
  if (!st)
    *out = strcmp(f->id, ptop->file->id) == 0;
  disk_file_close(f);
  return DISK_OK;
}

/* Points bottom's parentFileNameHint at ptop when it leads elsewhere (the
 * parent moved, or was opened under another name); only a writable bottom
 * link of ptop's vfs can be updated, else the attachment holds in memory
 * only. */
static int fix_hint(struct link *bottom, const struct link *ptop)
{
  char *old, *hint;
  bool same;
  int st = hint_leads_to(bottom, ptop, &same);

  if (st || same)
    return st;
  if (!bottom->writable || bottom->synthetic || bottom->vfs != ptop->vfs ||
      !desc_value_ok(ptop->path)) {
    fvx_debug("%s: parentFileNameHint \"%s\" does not lead to %s; attached "
              "for this handle only",
              bottom->path, bottom->desc.parent_hint, ptop->path);
    return DISK_OK;
  }
  hint = strdup(disk_parent_hint(bottom->path, ptop->path));
  if (!hint)
    return disk_fail(DISK_E_NOMEM, "%s: out of memory", bottom->path);
  old = bottom->desc.parent_hint;
  bottom->desc.parent_hint = hint;
  st = link_write_desc(bottom);
  if (st) {
    bottom->desc.parent_hint = old;
    free(hint);
    return st;
  }
  fvx_debug("%s: parentFileNameHint \"%s\" -> \"%s\"", bottom->path, old,
            hint);
  free(old);
  return DISK_OK;
}

int disk_attach(struct disk *parent, struct disk *child)
{
  struct link *ptop;
  size_t i;
  int st;

  if (!parent || !child || parent == child)
    return disk_fail(DISK_E_ARG, "attach: two distinct open disks needed");
  st = disk_attach_check(parent, child);
  if (!st)
    st = fix_hint(child->links[child->n - 1], parent->links[0]);
  ptop = parent->links[0];
  if (!st && ptop->writable)
    st = link_finish(ptop);
  if (!st && ptop->writable)
    st = link_flush(ptop);
  if (st) {
    disk_close(parent);
    return st;
  }
  /* Parents are read-only; a writer lock the parent held stays with its
   * file until child closes. */
  ptop->writable = false;
  for (i = 0; i < parent->n; i++)
    child->links[child->n++] = parent->links[i];
  parent->n = 0;
  free(parent);
  child->flags &= ~DISK_OPEN_SINGLE_LINK;
  return DISK_OK;
}
