/*
 * progress.h -- what a long command shows while it works: on a terminal
 * one bar per running VM (bytes, rate, ETA), redrawn in place, with the
 * step lines scrolling above; otherwise a line per step, and for a long
 * read a line every 30 s.  Everything goes to one stream (stderr for the
 * commands: stdout is for results and --json).  Thread-safe: every VM's
 * worker reports its own.
 */
#ifndef FREEVIX_CLI_PROGRESS_H
#define FREEVIX_CLI_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct progress;

/* Lines go to out, each starting with prefix (copied); tty: draw bars (out
 * is a terminal).  NULL when out of memory. */
struct progress *progress_new(FILE *out, const char *prefix, bool tty);

/* Stops the redraw and frees; NULL is a no-op. */
void progress_free(struct progress *p);

/* A new bar named name (copied); returns its id. */
unsigned progress_add(struct progress *p, const char *name);

/* Renames the bar (name copied), e.g. once a VM's name is known. */
void progress_rename(struct progress *p, unsigned id, const char *name);

/* The bytes the bar's work will read; starts its clock. */
void progress_total(struct progress *p, unsigned id, uint64_t bytes);

/* Bytes done so far (absolute). */
void progress_set(struct progress *p, unsigned id, uint64_t done);

/* A step line "name: text". */
void progress_say(struct progress *p, unsigned id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The bar's work is over: it is no longer drawn. */
void progress_end(struct progress *p, unsigned id);

/* "1.5 GiB", "12.0 MiB", "512 B" into out (size 32). */
void progress_bytes(uint64_t n, char out[32]);

#endif
