// Concept: the VMDK text descriptor — the header (version, CID, parentCID, createType,
// parentFileNameHint), the extent lines and the disk database, written the way ESXi writes them
// and parsed back by the simulator's own reader.
//
// Design: a descriptor is a small ordered record; format() produces ESXi's layout
// ("# Disk DescriptorFile", "# Extent description", "# The Disk Data Base" / "#DDB", ddb keys
// sorted); parseDescriptor() accepts any order, comments and blank lines, and bounds everything it
// reads (facts: libyal/libvmdk's format documentation, qemu's block/vmdk.c).

package main

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// noParentCID is the parentCID of a disk without a parent.
const noParentCID = 0xffffffff

// maxDescriptor bounds a descriptor file (real ones are about 1 KiB; qemu reads at most 1 MiB).
const maxDescriptor = 64 << 10

// extentLine is one extent of a descriptor: `RW 131072 VMFS "x-flat.vmdk"`.
type extentLine struct {
	access  string // RW, RDONLY, NOACCESS
	sectors int64
	kind    string // VMFS, FLAT, SESPARSE, VMFSSPARSE, SPARSE
	file    string // relative to the descriptor's directory
}

type descriptor struct {
	cid, parentCID uint32
	createType     string // vmfs, seSparse, vmfsSparse, monolithicSparse
	parentHint     string // parentFileNameHint, "" for a base
	extents        []extentLine
	ddb            map[string]string // keys without the "ddb." prefix
}

// format renders d as ESXi does.
func (d *descriptor) format() string {
	var b strings.Builder
	b.WriteString("# Disk DescriptorFile\nversion=1\nencoding=\"UTF-8\"\n")
	fmt.Fprintf(&b, "CID=%08x\nparentCID=%08x\n", d.cid, d.parentCID)
	fmt.Fprintf(&b, "createType=\"%s\"\n", d.createType)
	if d.parentHint != "" {
		fmt.Fprintf(&b, "parentFileNameHint=\"%s\"\n", d.parentHint)
	}
	b.WriteString("\n# Extent description\n")
	for _, e := range d.extents {
		fmt.Fprintf(&b, "%s %d %s \"%s\"\n", e.access, e.sectors, e.kind, e.file)
	}
	b.WriteString("\n# The Disk Data Base\n#DDB\n\n")
	keys := make([]string, 0, len(d.ddb))
	for k := range d.ddb {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "ddb.%s = \"%s\"\n", k, d.ddb[k])
	}
	return b.String()
}

// parseDescriptor reads a descriptor's text (a NUL ends it, as in an embedded descriptor).
func parseDescriptor(text string) (*descriptor, error) {
	if len(text) > maxDescriptor {
		return nil, errors.New("descriptor too large")
	}
	if i := strings.IndexByte(text, 0); i >= 0 {
		text = text[:i]
	}
	d := &descriptor{parentCID: noParentCID, ddb: map[string]string{}}
	seenCID := false
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(strings.TrimSuffix(line, "\r"))
		if line == "" || line[0] == '#' {
			continue
		}
		if e, ok, err := parseExtentLine(line); ok || err != nil {
			if err != nil {
				return nil, err
			}
			d.extents = append(d.extents, e)
			continue
		}
		eq := strings.IndexByte(line, '=')
		if eq < 0 {
			return nil, fmt.Errorf("descriptor: unexpected line %q", line)
		}
		key := strings.TrimSpace(line[:eq])
		val := unquote(strings.TrimSpace(line[eq+1:]))
		switch {
		case key == "CID" || key == "parentCID":
			n, err := strconv.ParseUint(val, 16, 32)
			if err != nil {
				return nil, fmt.Errorf("descriptor: bad %s %q", key, val)
			}
			if key == "CID" {
				d.cid, seenCID = uint32(n), true
			} else {
				d.parentCID = uint32(n)
			}
		case key == "createType":
			d.createType = val
		case key == "parentFileNameHint":
			d.parentHint = val
		case strings.HasPrefix(key, "ddb."):
			d.ddb[strings.TrimPrefix(key, "ddb.")] = val
		}
	}
	switch {
	case !seenCID:
		return nil, errors.New("descriptor: no CID")
	case d.createType == "":
		return nil, errors.New("descriptor: no createType")
	case len(d.extents) == 0:
		return nil, errors.New("descriptor: no extent")
	}
	return d, nil
}

// parseExtentLine recognises `ACCESS SECTORS TYPE "file"` (ok false: not an extent line).
func parseExtentLine(line string) (extentLine, bool, error) {
	var e extentLine
	fields := strings.SplitN(line, " ", 4)
	if len(fields) < 4 || (fields[0] != "RW" && fields[0] != "RDONLY" && fields[0] != "NOACCESS") {
		return e, false, nil
	}
	n, err := strconv.ParseInt(fields[1], 10, 64)
	if err != nil || n <= 0 || n > 1<<40 {
		return e, true, fmt.Errorf("descriptor: bad extent size in %q", line)
	}
	rest := fields[3]
	if len(rest) < 2 || rest[0] != '"' {
		return e, true, fmt.Errorf("descriptor: bad extent file in %q", line)
	}
	end := strings.IndexByte(rest[1:], '"')
	if end < 0 {
		return e, true, fmt.Errorf("descriptor: bad extent file in %q", line)
	}
	e.access, e.sectors, e.kind, e.file = fields[0], n, fields[2], rest[1:1+end]
	if tail := strings.TrimSpace(rest[2+end:]); tail != "" && tail != "0" {
		return e, true, fmt.Errorf("descriptor: extent offsets are not supported: %q", line)
	}
	return e, true, nil
}

func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}

// geometry is the BIOS geometry ESXi writes for a SCSI disk of capacity bytes.
func geometry(capacity int64) (cylinders, heads, sectors int64) {
	heads, sectors = 255, 63
	cylinders = capacity / 512 / (heads * sectors)
	if cylinders > 65535 {
		cylinders = 65535
	}
	if cylinders < 1 {
		cylinders = 1
	}
	return cylinders, heads, sectors
}
