// Concept: what one link of a disk chain holds — the linkData interface every extent format
// implements — and the grain engine shared by the three sparse formats (SEsparse, COWD, hosted
// sparse): reads, in-place writes and allocating writes over a two-level grain table.
//
// Design: a sparse format only says where grain g lives (grainAt) and how to give n consecutive
// unallocated grains of one grain table consecutive file space (allocate); sparseLink does the
// rest. Writes into unallocated grains must cover whole grains (the chain does copy-on-write for
// partial ones, vmdk_chain.go); a last grain that passes the capacity is written short.

package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
)

// grainState says what a link holds at a position.
type grainState int

const (
	stateHole grainState = iota // not defined by this link: read its parent
	stateData                   // data stored in this link
	stateZero                   // zeros defined by this link (a flat extent's hole, a zero grain)
)

// linkData is the data of one link of a chain, in virtual-disk offsets (bytes). Offsets and
// lengths are checked by the chain (0 <= off, off+len(p) <= size).
type linkData interface {
	size() int64
	grainSize() int64 // allocation unit, bytes
	// state returns the state at off and how far (> 0, <= n) it extends.
	state(off, n int64) (grainState, int64, error)
	// readAt reads p at off; holes read as zeros.
	readAt(p []byte, off int64) error
	// writeAt writes p at off: anywhere in allocated grains, and in unallocated ones only whole
	// grains (grain-aligned; the last grain of the disk may be cut by the capacity).
	writeAt(p []byte, off int64) error
	sync() error
	close() error
}

// sparseTables is what a sparse format answers for the grain engine.
type sparseTables interface {
	// grainAt returns the state of grain g and, for stateData, its byte offset in the file.
	grainAt(g int64) (grainState, int64, error)
	// allocate gives grains g..g+n-1 (unallocated, within one grain table) consecutive file space
	// and records it in the tables; it returns the byte offset of grain g in the file.
	allocate(g, n int64) (int64, error)
	// hasTable reports whether grain table t exists (false: all its grains are holes).
	hasTable(t int64) bool
}

type sparseLink struct {
	mu       sync.Mutex // guards the tables (loaded on demand, changed by writes)
	f        *os.File
	capacity int64 // bytes
	grain    int64 // bytes
	perGT    int64 // grains per grain table
	tables   sparseTables
}

func (s *sparseLink) size() int64      { return s.capacity }
func (s *sparseLink) grainSize() int64 { return s.grain }
func (s *sparseLink) sync() error      { return s.f.Sync() }
func (s *sparseLink) close() error     { return s.f.Close() }

func (s *sparseLink) state(off, n int64) (grainState, int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := off / s.grain
	first, _, err := s.tables.grainAt(g)
	if err != nil {
		return 0, 0, err
	}
	end := (g + 1) * s.grain
	for end < off+n {
		if t := end / s.grain / s.perGT; first == stateHole && end%(s.perGT*s.grain) == 0 && !s.tables.hasTable(t) {
			end += s.perGT * s.grain // a whole missing grain table
			continue
		}
		st, _, err := s.tables.grainAt(end / s.grain)
		if err != nil {
			return 0, 0, err
		}
		if st != first {
			break
		}
		end += s.grain
	}
	if end > off+n {
		end = off + n
	}
	return first, end - off, nil
}

// locate finds offset off: the state of its grain, where off is in the file (for stateData), and
// how many of the max bytes from off that grain holds. s.mu must be held.
func (s *sparseLink) locate(off int64, max int) (st grainState, at, n int64, err error) {
	g := off / s.grain
	in := off - g*s.grain
	st, at, err = s.tables.grainAt(g)
	return st, at + in, minInt64(s.grain-in, int64(max)), err
}

func (s *sparseLink) readAt(p []byte, off int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(p) > 0 {
		st, at, n, err := s.locate(off, len(p))
		if err != nil {
			return err
		}
		if st == stateData {
			err = readFull(s.f, p[:n], at)
		} else {
			zeroBytes(p[:n])
		}
		if err != nil {
			return err
		}
		p, off = p[n:], off+n
	}
	return nil
}

func (s *sparseLink) writeAt(p []byte, off int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(p) > 0 {
		st, at, n, err := s.locate(off, len(p))
		if err != nil {
			return err
		}
		if st == stateData {
			if _, err := s.f.WriteAt(p[:n], at); err != nil {
				return err
			}
			p, off = p[n:], off+n
			continue
		}
		g, in := off/s.grain, off%s.grain
		// A run of unallocated grains, whole, within this grain table.
		if in != 0 {
			return fmt.Errorf("sparse write at %d: partial unallocated grain", off)
		}
		limit := (g/s.perGT + 1) * s.perGT // first grain of the next grain table
		n = 0
		for g+n < limit && (n+1)*s.grain <= int64(len(p)) {
			if n > 0 {
				if st2, _, err := s.tables.grainAt(g + n); err != nil {
					return err
				} else if st2 == stateData {
					break
				}
			}
			n++
		}
		bytes := n * s.grain
		if n == 0 {
			// Only the disk's last grain may be written short.
			if off+int64(len(p)) != s.capacity {
				return fmt.Errorf("sparse write at %d: partial unallocated grain", off)
			}
			n, bytes = 1, int64(len(p))
		}
		at, err = s.tables.allocate(g, n)
		if err != nil {
			return err
		}
		buf := p[:bytes]
		if bytes%s.grain != 0 { // pad the short last grain to a whole grain in the file
			buf = make([]byte, s.grain)
			copy(buf, p[:bytes])
		}
		if _, err := s.f.WriteAt(buf, at); err != nil {
			return err
		}
		p, off = p[bytes:], off+bytes
	}
	return nil
}

// readFull reads len(p) bytes at off; bytes past the end of the file read as zeros (a sparse
// file's tail that was never written).
func readFull(f *os.File, p []byte, off int64) error {
	n, err := f.ReadAt(p, off)
	if errors.Is(err, io.EOF) {
		zeroBytes(p[n:])
		return nil
	}
	return err
}

// zeroBytes zeroes p.
func zeroBytes(p []byte) {
	for i := range p {
		p[i] = 0
	}
}

// ceilDiv is the ceiling of a/b for a >= 0, b > 0.
func ceilDiv(a, b int64) int64 {
	return (a + b - 1) / b
}

// alignUp rounds a up to a multiple of b.
func alignUp(a, b int64) int64 {
	return ceilDiv(a, b) * b
}

// sectorTables is a grain directory and grain tables of 32-bit sector numbers (0: unallocated),
// the tables of COWD and hosted sparse extents.
type sectorTables struct {
	f     *os.File
	gd    []uint32
	gts   map[int64][]uint32
	perGT int64
}

// load reads a directory of n entries at sector gdSector of f, for tables of perGT entries.
func (t *sectorTables) load(f *os.File, gdSector, n, perGT int64) error {
	raw := make([]byte, n*4)
	if err := readFull(f, raw, gdSector*512); err != nil {
		return err
	}
	t.f, t.gd, t.gts, t.perGT = f, make([]uint32, n), map[int64][]uint32{}, perGT
	for i := range t.gd {
		t.gd[i] = binary.LittleEndian.Uint32(raw[i*4:])
	}
	return nil
}

func (t *sectorTables) hasTable(n int64) bool { return t.gd[n] != 0 }

// table returns grain table n (which must exist), reading it on first use.
func (t *sectorTables) table(n int64) ([]uint32, error) {
	if gt, ok := t.gts[n]; ok {
		return gt, nil
	}
	raw := make([]byte, t.perGT*4)
	if err := readFull(t.f, raw, int64(t.gd[n])*512); err != nil {
		return nil, err
	}
	gt := make([]uint32, t.perGT)
	for i := range gt {
		gt[i] = binary.LittleEndian.Uint32(raw[i*4:])
	}
	t.gts[n] = gt
	return gt, nil
}

func (t *sectorTables) grainAt(g int64) (grainState, int64, error) {
	n := g / t.perGT
	if t.gd[n] == 0 {
		return stateHole, 0, nil
	}
	gt, err := t.table(n)
	if err != nil {
		return 0, 0, err
	}
	if s := gt[g%t.perGT]; s != 0 {
		return stateData, int64(s) * 512, nil
	}
	return stateHole, 0, nil
}

// setEntries records sectors first, first+step, ... for grains g..g+n-1 of table tn (which
// must exist) and returns the write that stores them.
func (t *sectorTables) setEntries(g, n, first, step int64) (chunk, error) {
	tn := g / t.perGT
	gt, err := t.table(tn)
	if err != nil {
		return chunk{}, err
	}
	i0 := g % t.perGT
	raw := make([]byte, n*4)
	for i := int64(0); i < n; i++ {
		gt[i0+i] = uint32(first + i*step)
		binary.LittleEndian.PutUint32(raw[i*4:], gt[i0+i])
	}
	return chunk{raw, int64(t.gd[tn])*512 + i0*4}, nil
}

// chunk is one write: data at a file offset.
type chunk struct {
	data []byte
	off  int64
}

func writeAll(f *os.File, chunks []chunk) error {
	for _, c := range chunks {
		if _, err := f.WriteAt(c.data, c.off); err != nil {
			return err
		}
	}
	return nil
}

// openExtent opens an extent file read-only or read-write and hands it to load; the file is
// closed again when load fails.
func openExtent(path string, write bool, load func(*os.File) (linkData, error)) (linkData, error) {
	flag := os.O_RDONLY
	if write {
		flag = os.O_RDWR
	}
	f, err := os.OpenFile(path, flag, 0)
	if err != nil {
		return nil, err
	}
	link, err := load(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return link, nil
}
