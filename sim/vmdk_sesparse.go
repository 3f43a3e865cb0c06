// Concept: the SEsparse extent (ESXi's delta format on VMFS6, createType "seSparse", extent type
// SESPARSE, file x-00000N-sesparse.vmdk): creating one, and its grain tables for the grain
// engine of vmdk_sparse.go.
//
// Facts (qemu's block/vmdk.c, which reads the format and checks it strictly): a 512-byte constant
// header (magic 0xcafebabe, version 0x200000001, capacity, grain size 8 sectors, grain table size
// 64 sectors, flags 0, four reserved zeros, then offset/size pairs in sectors of the volatile
// header, journal header, journal, grain directory, grain tables, free bitmap, backmap and grains,
// zero padding); a 512-byte volatile header (magic 0xcafecafe, free grain table number, next
// transaction number, replay-journal flag that must be 0, zero padding); grain directory entries
// are 0 (no table) or 0x10000000_xxxxxxxx with the table number in the low 32 bits; grain table
// entries have the state in the top nibble (0 unallocated, 1 unmapped, 2 zero, 3 allocated) and an
// allocated grain's number split as bits 48-59 (low 12 bits) and 0-47 (the rest).
// Layout choices (not dictated by the format): every region starts on a 1 MiB boundary; the
// journal is empty; the free bitmap and backmap regions are reserved and left zero; grain tables
// and grains are handed out in order, so the file grows at its end.

package main

import (
	"encoding/binary"
	"fmt"
	"os"
)

const (
	seConstMagic    = 0xcafebabe
	seVolatileMagic = 0xcafecafe
	seVersion       = 0x200000001
	seGrainSectors  = 8
	seGTSectors     = 64
	seGTEntries     = seGTSectors * 512 / 8
	seRegionAlign   = 2048 // sectors: 1 MiB
	seGDAllocated   = 0x1000000000000000
	seGTAllocated   = 0x3000000000000000
)

// seLayout is where the regions of an SEsparse file of a given capacity are, in sectors.
type seLayout struct {
	capacity                       int64 // sectors
	grains, tables                 int64 // counts
	gd, gdSize, gt, gtSize         int64
	bitmap, bitmapSize, backmap    int64
	backmapSize, grain, grainsSize int64
}

func newSELayout(capacitySectors int64) seLayout {
	l := seLayout{capacity: capacitySectors}
	l.grains = ceilDiv(capacitySectors, seGrainSectors)
	l.tables = ceilDiv(l.grains, seGTEntries)
	l.gd = 2 * seRegionAlign
	l.gdSize = ceilDiv(l.tables*8, 512)
	l.gt = alignUp(l.gd+l.gdSize, seRegionAlign)
	l.gtSize = l.tables * seGTSectors
	l.bitmap = alignUp(l.gt+l.gtSize, seRegionAlign)
	l.bitmapSize = ceilDiv(ceilDiv(l.grains, 8), 512)
	l.backmap = alignUp(l.bitmap+l.bitmapSize, seRegionAlign)
	l.backmapSize = ceilDiv(l.grains*8, 512)
	l.grain = alignUp(l.backmap+l.backmapSize, seRegionAlign)
	l.grainsSize = l.grains * seGrainSectors
	return l
}

// constHeader encodes the constant header (sector 0).
func (l seLayout) constHeader() []byte {
	h := make([]byte, 512)
	for i, v := range []int64{
		seConstMagic, seVersion, l.capacity, seGrainSectors, seGTSectors, 0, 0, 0, 0, 0,
		1, 1, // volatile header
		2, 2, // journal header
		seRegionAlign, seRegionAlign, // journal
		l.gd, l.gdSize, l.gt, l.gtSize, l.bitmap, l.bitmapSize, l.backmap, l.backmapSize,
		l.grain, l.grainsSize,
	} {
		binary.LittleEndian.PutUint64(h[i*8:], uint64(v))
	}
	return h
}

// volatileHeader encodes the volatile header (sector 1) with freeGT tables in use.
func volatileHeader(freeGT int64) []byte {
	h := make([]byte, 512)
	binary.LittleEndian.PutUint64(h[0:], seVolatileMagic)
	binary.LittleEndian.PutUint64(h[8:], uint64(freeGT))
	binary.LittleEndian.PutUint64(h[16:], 1) // next transaction sequence number
	return h
}

// createSESparse writes an empty SEsparse extent of capacity bytes at path.
func createSESparse(path string, capacity int64) error {
	l := newSELayout(ceilDiv(capacity, 512))
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	err = writeAll(f, []chunk{{l.constHeader(), 0}, {volatileHeader(0), 512}})
	if err == nil {
		err = f.Truncate(l.grain * 512)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

type seTables struct {
	f         *os.File
	l         seLayout
	gd        []uint64
	gts       map[int64][]uint64
	nextGT    int64
	nextGrain int64
}

// loadSESparse reads an SEsparse extent of a disk of capacity bytes, checking it as qemu does.
func loadSESparse(f *os.File, capacity int64) (linkData, error) {
	var hdr [1024]byte
	if err := readFull(f, hdr[:], 0); err != nil {
		return nil, err
	}
	u := func(i int) int64 { return int64(binary.LittleEndian.Uint64(hdr[i*8:])) }
	switch {
	case u(0) != seConstMagic:
		return nil, fmt.Errorf("bad SEsparse magic %#x", u(0))
	case u(1) != seVersion:
		return nil, fmt.Errorf("unsupported SEsparse version %#x", u(1))
	case u(3) != seGrainSectors || u(4) != seGTSectors:
		return nil, fmt.Errorf("unsupported SEsparse grain %d / table %d", u(3), u(4))
	case u(5) != 0 || u(6) != 0 || u(7) != 0 || u(8) != 0 || u(9) != 0:
		return nil, fmt.Errorf("unsupported SEsparse flags or reserved fields")
	case u(2)*512 < capacity:
		return nil, fmt.Errorf("SEsparse capacity %d sectors is smaller than the disk", u(2))
	case u(10) != 1 || binary.LittleEndian.Uint64(hdr[512:]) != seVolatileMagic:
		return nil, fmt.Errorf("bad SEsparse volatile header")
	case binary.LittleEndian.Uint64(hdr[512+24:]) != 0:
		return nil, fmt.Errorf("SEsparse journal needs replay")
	}
	l := newSELayout(u(2))
	if u(16) != l.gd || u(17) != l.gdSize || u(18) != l.gt || u(24) != l.grain {
		return nil, fmt.Errorf("SEsparse layout is not this simulator's")
	}
	t := &seTables{f: f, l: l, gd: make([]uint64, l.tables), gts: map[int64][]uint64{}}
	raw := make([]byte, l.tables*8)
	if err := readFull(f, raw, l.gd*512); err != nil {
		return nil, err
	}
	for i := range t.gd {
		e := binary.LittleEndian.Uint64(raw[i*8:])
		if e != 0 && e&0xffffffff00000000 != seGDAllocated {
			return nil, fmt.Errorf("bad SEsparse grain directory entry %#x", e)
		}
		t.gd[i] = e
		if e != 0 && int64(e&0xffffffff) >= t.nextGT {
			t.nextGT = int64(e&0xffffffff) + 1
		}
	}
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if used := st.Size() - l.grain*512; used > 0 {
		t.nextGrain = ceilDiv(used, seGrainSectors*512)
	}
	return &sparseLink{f: f, capacity: capacity, grain: seGrainSectors * 512, perGT: seGTEntries, tables: t}, nil
}

func (t *seTables) hasTable(n int64) bool { return t.gd[n] != 0 }

func (t *seTables) table(n int64) ([]uint64, error) {
	if gt, ok := t.gts[n]; ok {
		return gt, nil
	}
	raw := make([]byte, seGTSectors*512)
	if err := readFull(t.f, raw, (t.l.gt+int64(t.gd[n]&0xffffffff)*seGTSectors)*512); err != nil {
		return nil, err
	}
	gt := make([]uint64, seGTEntries)
	for i := range gt {
		gt[i] = binary.LittleEndian.Uint64(raw[i*8:])
	}
	t.gts[n] = gt
	return gt, nil
}

func (t *seTables) grainAt(g int64) (grainState, int64, error) {
	n := g / seGTEntries
	if t.gd[n] == 0 {
		return stateHole, 0, nil
	}
	gt, err := t.table(n)
	if err != nil {
		return 0, 0, err
	}
	e := gt[g%seGTEntries]
	switch e >> 60 {
	case 0:
		if e != 0 {
			return 0, 0, fmt.Errorf("bad SEsparse grain table entry %#x", e)
		}
		return stateHole, 0, nil
	case 1, 2:
		return stateZero, 0, nil
	case 3:
		idx := int64((e&0x0fff000000000000)>>48 | (e&0x0000ffffffffffff)<<12)
		return stateData, (t.l.grain + idx*seGrainSectors) * 512, nil
	}
	return 0, 0, fmt.Errorf("bad SEsparse grain table entry %#x", e)
}

func (t *seTables) allocate(g, n int64) (int64, error) {
	tn := g / seGTEntries
	if t.gd[tn] == 0 {
		t.gd[tn] = seGDAllocated | uint64(t.nextGT)
		t.nextGT++
		var e [8]byte
		binary.LittleEndian.PutUint64(e[:], t.gd[tn])
		if err := writeAll(t.f, []chunk{{e[:], t.l.gd*512 + tn*8}, {volatileHeader(t.nextGT), 512}}); err != nil {
			return 0, err
		}
		t.gts[tn] = make([]uint64, seGTEntries) // a fresh table reads as zeros
	}
	gt, err := t.table(tn)
	if err != nil {
		return 0, err
	}
	first := t.nextGrain
	t.nextGrain += n
	i0 := g % seGTEntries
	raw := make([]byte, n*8)
	for i := int64(0); i < n; i++ {
		idx := uint64(first + i)
		gt[i0+i] = seGTAllocated | (idx&0xfff)<<48 | (idx>>12)&0x0000ffffffffffff
		binary.LittleEndian.PutUint64(raw[i*8:], gt[i0+i])
	}
	at := (t.l.gt+int64(t.gd[tn]&0xffffffff)*seGTSectors)*512 + i0*8
	if _, err := t.f.WriteAt(raw, at); err != nil {
		return 0, err
	}
	return (t.l.grain + first*seGrainSectors) * 512, nil
}
