/* vmfile.c -- see vmfile.h. */
#include "vmfile.h"

#include <string.h>

bool vmfile_read(FILE *f, const char *name, vmfile_entry_fn *add,
                 void *opaque, FILE *diag)
{
  char line[VMFILE_LINE_MAX + 2]; /* the line, its '\n', the NUL */
  unsigned n = 0;

  while (fgets(line, sizeof line, f)) {
    char *p = line, *end = line + strlen(line);

    n++;
    if (end > line && end[-1] != '\n' && !feof(f)) {
      fprintf(diag, "freevix: %s:%u: line longer than %d bytes\n", name, n,
              VMFILE_LINE_MAX);
      return false;
    }
    while (*p == ' ' || *p == '\t')
      p++;
    while (end > p && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' ' ||
                       end[-1] == '\t'))
      *--end = '\0';
    if (!*p || *p == '#')
      continue;
    for (const char *c = p; c < end; c++)
      if ((unsigned char)*c < 0x20 || *c == 0x7f) {
        fprintf(diag, "freevix: %s:%u: control character in VM spec\n",
                name, n);
        return false;
      }
    if (strlen(p) != (size_t)(end - p)) {
      fprintf(diag, "freevix: %s:%u: NUL byte in VM spec\n", name, n);
      return false;
    }
    if (!add(opaque, p))
      return false;
  }
  if (ferror(f)) {
    fprintf(diag, "freevix: %s: read error\n", name);
    return false;
  }
  return true;
}
