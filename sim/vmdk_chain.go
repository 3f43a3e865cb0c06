// Concept: a disk chain read from its files — the simulator's own VMDK reader (and writer) of
// vmfs flat, SEsparse, COWD and hosted sparse links — and the creation of links the way ESXi
// names and describes them.
//
// Design: openChain starts at a descriptor and follows parentFileNameHint (relative to the
// descriptor's directory) down to the base, checking every parentCID against its parent's CID, as
// VMware's and qemu's readers do. A read takes each piece from the topmost link that defines it
// (data or zeros); a hole falls through to the parent; the bottom's holes read as zeros. A write
// goes to the top link; where it covers only part of a grain the top does not hold yet, the rest of
// the grain is first read from the links below (copy-on-write). One concept, one place: the admin
// hashes, /disk/allocated, CBT's "*" and the NFC responder all read through this.

package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Link formats (descriptor createType values).
const (
	formatVmfs       = "vmfs"
	formatSESparse   = "seSparse"
	formatVmfsSparse = "vmfsSparse"
	formatHosted     = "monolithicSparse"
)

// maxChain bounds a chain's length (ESXi allows 32 snapshots).
const maxChain = 64

// chainLink is one opened link.
type chainLink struct {
	desc     *descriptor
	descPath string // local path of the descriptor (a hosted sparse file holds its own)
	extPath  string // local path of the extent
	data     linkData
}

// openLink opens the link whose descriptor is at descPath (read-write only when write).
func openLink(descPath string, write bool) (*chainLink, error) {
	f, err := os.Open(descPath)
	if err != nil {
		return nil, err
	}
	head := make([]byte, maxDescriptor)
	n, err := f.ReadAt(head, 0)
	if err != nil && n == 0 {
		f.Close()
		return nil, fmt.Errorf("%s: %v", descPath, err)
	}
	head = head[:n]
	text, hosted, err := hostedDescriptor(head, f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("%s: %v", descPath, err)
	}
	if !hosted {
		if n >= 4 && (string(head[:4]) == "COWD" || string(head[:4]) == "\xbe\xba\xfe\xca") {
			return nil, fmt.Errorf("%s is an extent, not a descriptor", descPath)
		}
		text = string(head)
	}
	desc, err := parseDescriptor(text)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", descPath, err)
	}
	if len(desc.extents) != 1 {
		return nil, fmt.Errorf("%s: %d extents (only single-extent disks are simulated)", descPath, len(desc.extents))
	}
	e := desc.extents[0]
	capacity := e.sectors * 512
	l := &chainLink{desc: desc, descPath: descPath, extPath: filepath.Join(filepath.Dir(descPath), e.file)}
	var load func(*os.File) (linkData, error)
	switch {
	case hosted && e.kind == "SPARSE":
		l.extPath = descPath
		load = func(f *os.File) (linkData, error) { return loadHosted(f, capacity) }
	case !hosted && (e.kind == "VMFS" || e.kind == "FLAT"):
		load = func(f *os.File) (linkData, error) { return loadFlat(f, capacity) }
	case !hosted && e.kind == "SESPARSE":
		load = func(f *os.File) (linkData, error) { return loadSESparse(f, capacity) }
	case !hosted && e.kind == "VMFSSPARSE":
		load = func(f *os.File) (linkData, error) { return loadCOWD(f, capacity) }
	default:
		return nil, fmt.Errorf("%s: extent type %s is not simulated", descPath, e.kind)
	}
	if strings.Contains(e.file, "/") {
		return nil, fmt.Errorf("%s: extent %q outside the descriptor's directory", descPath, e.file)
	}
	if l.data, err = openExtent(l.extPath, write, load); err != nil {
		return nil, err
	}
	return l, nil
}

// chain is an opened disk: links[0] is the top (the file the disk was opened by), the last the base.
type chain struct {
	links  []*chainLink
	shared bool // the links belong to someone else (the store's cache): close leaves them open
}

// openChain opens the disk whose top descriptor is descPath; only the top is writable.
func openChain(descPath string, write bool) (*chain, error) {
	first := true
	return openChainFrom(descPath, false, func(path string) (*chainLink, error) {
		top := first
		first = false
		return openLink(path, write && top)
	})
}

// openChainWith opens a chain whose links come from open (shared: they stay open when the chain
// is closed).
func openChainWith(descPath string, open func(path string) (*chainLink, error)) (*chain, error) {
	return openChainFrom(descPath, true, open)
}

func openChainFrom(descPath string, shared bool, open func(path string) (*chainLink, error)) (*chain, error) {
	c := &chain{shared: shared}
	for path := descPath; ; {
		l, err := open(path)
		if err != nil {
			c.close()
			return nil, err
		}
		c.links = append(c.links, l)
		if len(c.links) > 1 {
			child := c.links[len(c.links)-2]
			switch {
			case child.desc.parentCID != l.desc.cid:
				c.close()
				return nil, fmt.Errorf("%s: parentCID %08x does not match %s's CID %08x",
					child.descPath, child.desc.parentCID, path, l.desc.cid)
			case l.data.size() != c.links[0].data.size():
				c.close()
				return nil, fmt.Errorf("%s: size differs from its child's", path)
			}
		}
		hint := l.desc.parentHint
		if hint == "" {
			return c, nil
		}
		if len(c.links) == maxChain {
			c.close()
			return nil, fmt.Errorf("%s: chain longer than %d links", descPath, maxChain)
		}
		if !filepath.IsAbs(hint) {
			hint = filepath.Join(filepath.Dir(path), hint)
		}
		path = hint
	}
}

func (c *chain) size() int64 { return c.links[0].data.size() }

func (c *chain) close() error {
	if c.shared {
		return nil
	}
	var first error
	for _, l := range c.links {
		if err := l.data.close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

func (c *chain) sync() error {
	return c.links[0].data.sync()
}

// check validates a request against the disk's size.
func (c *chain) check(off, n int64) error {
	if off < 0 || n < 0 || off > c.size() || n > c.size()-off {
		return fmt.Errorf("range %d+%d outside the disk (%d bytes)", off, n, c.size())
	}
	return nil
}

// readAt reads len(p) bytes at off.
func (c *chain) readAt(p []byte, off int64) error {
	if err := c.check(off, int64(len(p))); err != nil {
		return err
	}
	return c.readFrom(0, p, off)
}

// readFrom reads p at off from the chain that starts at link i.
func (c *chain) readFrom(i int, p []byte, off int64) error {
	l := c.links[i].data
	for len(p) > 0 {
		st, run, err := l.state(off, int64(len(p)))
		if err != nil {
			return err
		}
		switch {
		case st == stateHole && i+1 < len(c.links):
			err = c.readFrom(i+1, p[:run], off)
		case st == stateData:
			err = l.readAt(p[:run], off)
		default:
			zeroBytes(p[:run])
		}
		if err != nil {
			return err
		}
		p, off = p[run:], off+run
	}
	return nil
}

// writeAt writes p at off into the top link, copying on write from the links below.
func (c *chain) writeAt(p []byte, off int64) error {
	if err := c.check(off, int64(len(p))); err != nil {
		return err
	}
	top := c.links[0].data
	if _, flat := top.(*flatLink); flat {
		return top.writeAt(p, off) // a flat extent takes any write
	}
	g := top.grainSize()
	var buf []byte
	for len(p) > 0 {
		start := off / g * g
		span := minInt64(alignUp(off+int64(len(p)), g), c.size()) - start
		st, run, err := top.state(start, span)
		if err != nil {
			return err
		}
		want := minInt64(start+run-off, int64(len(p))) // the part of p in this run
		if st == stateData {
			if err := top.writeAt(p[:want], off); err != nil {
				return err
			}
			p, off = p[want:], off+want
			continue
		}
		if off == start {
			// Whole grains the top does not hold: written in one go (the disk's short last
			// grain counts as whole).
			whole := want / g * g
			if off+want == c.size() {
				whole = want
			}
			if whole > 0 {
				if err := top.writeAt(p[:whole], off); err != nil {
					return err
				}
				p, off = p[whole:], off+whole
				continue
			}
		}
		// Part of a grain the top does not hold: read the grain from below, overlay, write it.
		end := minInt64(start+g, c.size())
		n := minInt64(end-off, int64(len(p)))
		if buf == nil {
			buf = make([]byte, g)
		}
		grain := buf[:end-start]
		if st == stateHole && len(c.links) > 1 {
			if err := c.readFrom(1, grain, start); err != nil {
				return err
			}
		} else {
			zeroBytes(grain)
		}
		copy(grain[off-start:], p[:n])
		if err := top.writeAt(grain, start); err != nil {
			return err
		}
		p, off = p[n:], off+n
	}
	return nil
}

// allocated reports whether off is allocated (data in the topmost link that defines it) and how
// far (> 0, <= n) that answer extends.
func (c *chain) allocated(off, n int64) (bool, int64, error) {
	if err := c.check(off, n); err != nil {
		return false, 0, err
	}
	if n == 0 {
		return false, 0, errors.New("empty range")
	}
	return c.allocatedFrom(0, off, n)
}

func (c *chain) allocatedFrom(i int, off, n int64) (bool, int64, error) {
	st, run, err := c.links[i].data.state(off, n)
	if err != nil {
		return false, 0, err
	}
	if st == stateHole && i+1 < len(c.links) {
		return c.allocatedFrom(i+1, off, run)
	}
	return st == stateData, run, nil
}

// extentRun is an allocated area, in bytes.
type extentRun struct {
	Offset int64 `json:"offset"`
	Length int64 `json:"length"`
}

// allocatedRuns lists the allocated areas of [off, off+n), adjacent areas merged.
func (c *chain) allocatedRuns(off, n int64) ([]extentRun, error) {
	out := []extentRun{}
	for end := off + n; off < end; {
		alloc, run, err := c.allocated(off, end-off)
		if err != nil {
			return nil, err
		}
		if alloc {
			if k := len(out) - 1; k >= 0 && out[k].Offset+out[k].Length == off {
				out[k].Length += run
			} else {
				out = append(out, extentRun{off, run})
			}
		}
		off += run
	}
	return out, nil
}

// linkSpec describes a link to create.
type linkSpec struct {
	dir, name  string // directory (local) and file name without ".vmdk": "DC0_H0_VM0-000001"
	format     string // formatVmfs, formatSESparse, formatVmfsSparse, formatHosted
	capacity   int64  // bytes
	cid        uint32
	parentCID  uint32 // noParentCID for a base
	parentHint string // parent's descriptor file name, "" for a base
	ddb        map[string]string
}

// extentName is the extent file ESXi gives a link of format: x-flat.vmdk, x-sesparse.vmdk,
// x-delta.vmdk, or the descriptor itself for hosted sparse.
func extentName(name, format string) string {
	switch format {
	case formatVmfs:
		return name + "-flat.vmdk"
	case formatSESparse:
		return name + "-sesparse.vmdk"
	case formatVmfsSparse:
		return name + "-delta.vmdk"
	}
	return name + ".vmdk"
}

// descriptorOf renders the descriptor of a link.
func (s linkSpec) descriptorOf() *descriptor {
	kinds := map[string]string{formatVmfs: "VMFS", formatSESparse: "SESPARSE", formatVmfsSparse: "VMFSSPARSE", formatHosted: "SPARSE"}
	return &descriptor{
		cid: s.cid, parentCID: s.parentCID, createType: s.format, parentHint: s.parentHint,
		extents: []extentLine{{access: "RW", sectors: ceilDiv(s.capacity, 512), kind: kinds[s.format], file: extentName(s.name, s.format)}},
		ddb:     s.ddb,
	}
}

// createLink writes the files of a new, empty link and returns their local paths (descriptor
// first). Nothing is left behind on failure.
func createLink(s linkSpec) ([]string, error) {
	descPath := filepath.Join(s.dir, s.name+".vmdk")
	extPath := filepath.Join(s.dir, extentName(s.name, s.format))
	text := s.descriptorOf().format()
	var err error
	switch s.format {
	case formatVmfs:
		err = createFlat(extPath, s.capacity)
	case formatSESparse:
		err = createSESparse(extPath, s.capacity)
	case formatVmfsSparse:
		err = createCOWD(extPath, s.capacity)
	case formatHosted:
		return []string{descPath}, createHostedSparse(descPath, s.capacity, text)
	default:
		return nil, fmt.Errorf("unknown format %q", s.format)
	}
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(descPath, []byte(text), 0o644); err != nil {
		os.Remove(extPath)
		return nil, err
	}
	return []string{descPath, extPath}, nil
}

// rewriteDescriptor stores d as the descriptor of the link at descPath (text or embedded).
func rewriteDescriptor(descPath string, d *descriptor) error {
	if d.createType == formatHosted {
		return rewriteHostedDescriptor(descPath, d.format())
	}
	tmp := descPath + ".tmp"
	if err := os.WriteFile(tmp, []byte(d.format()), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, descPath)
}
