// Concept: the COWD extent (ESXi's vmfsSparse redo log, VMFS5's delta format below 2 TB;
// createType "vmfsSparse", extent type VMFSSPARSE, file x-00000N-delta.vmdk): creating one, and
// its grain tables for the grain engine of vmdk_sparse.go.
//
// Facts (libyal/libvmdk's format documentation, "The COWD sparse extent data file"; qemu's
// block/vmdk.c reads it): a 2048-byte header, little-endian after the signature "COWD": version 1,
// flags 3, capacity in sectors, grain size in sectors, grain directory sector (4), number of grain
// directory entries, next free sector; for a child the parent file name (not set by recent ESXi),
// generations, name, description, dirty flag. Directory and tables hold 32-bit sector numbers
// (0: unallocated); a grain table has 4096 entries. Layout choices: grains of one sector (512
// bytes, VMFSsparse's grain), grain tables allocated on demand at the next free sector, the header's
// next free sector kept current.

package main

import (
	"encoding/binary"
	"fmt"
	"os"
)

const (
	cowdGrainSectors = 1
	cowdGTEntries    = 4096
	cowdGTSectors    = cowdGTEntries * 4 / 512
	cowdGDSector     = 4
	cowdMaxSectors   = 1<<32 - 1
)

// cowdHeader encodes the 2048-byte header.
func cowdHeader(capacitySectors, gdEntries, nextFree int64) []byte {
	h := make([]byte, 2048)
	copy(h, "COWD")
	for i, v := range []int64{1, 3, capacitySectors, cowdGrainSectors, cowdGDSector, gdEntries, nextFree} {
		binary.LittleEndian.PutUint32(h[4+i*4:], uint32(v))
	}
	binary.LittleEndian.PutUint32(h[1060:], 1) // generation
	return h
}

// createCOWD writes an empty COWD extent of capacity bytes at path.
func createCOWD(path string, capacity int64) error {
	sectors := ceilDiv(capacity, 512)
	if sectors > cowdMaxSectors {
		return fmt.Errorf("vmfsSparse cannot hold %d bytes (2 TB at most)", capacity)
	}
	entries := ceilDiv(sectors, cowdGTEntries*cowdGrainSectors)
	next := cowdGDSector + ceilDiv(entries*4, 512)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	err = writeAll(f, []chunk{{cowdHeader(sectors, entries, next), 0}})
	if err == nil {
		err = f.Truncate(next * 512)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

type cowdTables struct {
	sectorTables
	sectors  int64
	nextFree int64 // sectors
}

func loadCOWD(f *os.File, capacity int64) (linkData, error) {
	var h [2048]byte
	if err := readFull(f, h[:], 0); err != nil {
		return nil, err
	}
	u := func(off int) int64 { return int64(binary.LittleEndian.Uint32(h[off:])) }
	t := &cowdTables{sectors: u(12), nextFree: u(28)}
	entries := u(24)
	switch {
	case string(h[:4]) != "COWD" || u(4) != 1:
		return nil, fmt.Errorf("not a COWD extent")
	case u(16) != cowdGrainSectors || u(20) != cowdGDSector:
		return nil, fmt.Errorf("unsupported COWD grain %d / directory %d", u(16), u(20))
	case t.sectors*512 < capacity || entries != ceilDiv(t.sectors, cowdGTEntries*cowdGrainSectors):
		return nil, fmt.Errorf("COWD capacity %d sectors / %d tables do not fit the disk", t.sectors, entries)
	}
	if err := t.load(f, cowdGDSector, entries, cowdGTEntries); err != nil {
		return nil, err
	}
	return &sparseLink{f: f, capacity: capacity, grain: cowdGrainSectors * 512, perGT: cowdGTEntries, tables: t}, nil
}

func (t *cowdTables) allocate(g, n int64) (int64, error) {
	tn := g / cowdGTEntries
	var writes []chunk
	if t.gd[tn] == 0 {
		t.gd[tn] = uint32(t.nextFree)
		t.nextFree += cowdGTSectors
		var e [4]byte
		binary.LittleEndian.PutUint32(e[:], t.gd[tn])
		writes = append(writes, chunk{e[:], cowdGDSector*512 + tn*4})
		t.gts[tn] = make([]uint32, cowdGTEntries) // a fresh table reads as zeros
	}
	first := t.nextFree
	if first+n*cowdGrainSectors > cowdMaxSectors {
		return 0, fmt.Errorf("COWD extent full")
	}
	t.nextFree += n * cowdGrainSectors
	entries, err := t.setEntries(g, n, first, cowdGrainSectors)
	if err != nil {
		return 0, err
	}
	var next [4]byte
	binary.LittleEndian.PutUint32(next[:], uint32(t.nextFree))
	if err := writeAll(t.f, append(writes, entries, chunk{next[:], 28})); err != nil {
		return 0, err
	}
	return first * 512, nil
}
