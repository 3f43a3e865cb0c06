// Concept: the hosted sparse extent (Workstation's monolithicSparse, magic "KDMV", one file with
// the descriptor embedded; here only as a delta format for comparison, --delta-format sparse):
// creating one, reading and rewriting its embedded descriptor, and its grain tables for the grain
// engine of vmdk_sparse.go.
//
// Facts (libyal/libvmdk's format documentation, "The VMDK sparse extent data file"; qemu's
// block/vmdk.c): a 512-byte header — "KDMV", version, flags, capacity, grain size, descriptor
// sector and size, 512 entries per grain table, redundant and primary grain directory sectors,
// metadata size, dirty flag, the newline-detection bytes "\n \r\n", compression 0 — all
// little-endian; directory and tables of 32-bit sector numbers. Layout choices: version 1, flags
// 1 (newline test valid, no redundant directory), grains of 128 sectors, the descriptor in sectors
// 1-20, the directory at sector 21 and every grain table preallocated after it, grains appended at
// the end of the file on 64 KiB boundaries.

package main

import (
	"encoding/binary"
	"fmt"
	"os"
)

const (
	hostedGrainSectors = 128
	hostedGTEntries    = 512
	hostedGTSectors    = hostedGTEntries * 4 / 512
	hostedDescSector   = 1
	hostedDescSectors  = 20
	hostedGDSector     = hostedDescSector + hostedDescSectors
)

// hostedLayout returns the number of grain tables, the first table's sector and the metadata size.
func hostedLayout(capacitySectors int64) (tables, firstGT, overhead int64) {
	tables = ceilDiv(capacitySectors, hostedGTEntries*hostedGrainSectors)
	firstGT = hostedGDSector + ceilDiv(tables*4, 512)
	overhead = alignUp(firstGT+tables*hostedGTSectors, hostedGrainSectors)
	return tables, firstGT, overhead
}

// createHostedSparse writes an empty hosted sparse file of capacity bytes with descriptor desc.
func createHostedSparse(path string, capacity int64, desc string) error {
	if len(desc) >= hostedDescSectors*512 {
		return fmt.Errorf("descriptor of %d bytes does not fit", len(desc))
	}
	sectors := ceilDiv(capacity, 512)
	tables, firstGT, overhead := hostedLayout(sectors)
	h := make([]byte, 512)
	copy(h, "KDMV")
	binary.LittleEndian.PutUint32(h[4:], 1)
	binary.LittleEndian.PutUint32(h[8:], 1)
	for i, v := range []int64{sectors, hostedGrainSectors, hostedDescSector, hostedDescSectors} {
		binary.LittleEndian.PutUint64(h[12+i*8:], uint64(v))
	}
	binary.LittleEndian.PutUint32(h[44:], hostedGTEntries)
	binary.LittleEndian.PutUint64(h[48:], 0) // no redundant directory
	binary.LittleEndian.PutUint64(h[56:], hostedGDSector)
	binary.LittleEndian.PutUint64(h[64:], uint64(overhead))
	copy(h[73:], "\n \r\n")
	gd := make([]byte, tables*4)
	for i := int64(0); i < tables; i++ {
		binary.LittleEndian.PutUint32(gd[i*4:], uint32(firstGT+i*hostedGTSectors))
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	err = writeAll(f, []chunk{{h, 0}, {[]byte(desc), hostedDescSector * 512}, {gd, hostedGDSector * 512}})
	if err == nil {
		err = f.Truncate(overhead * 512)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// hostedDescriptor returns the descriptor embedded in a hosted sparse file (ok false: the file
// is not a hosted sparse file).
func hostedDescriptor(head []byte, f *os.File) (string, bool, error) {
	if len(head) < 512 || string(head[:4]) != "KDMV" {
		return "", false, nil
	}
	at := int64(binary.LittleEndian.Uint64(head[28:]))
	n := int64(binary.LittleEndian.Uint64(head[36:]))
	if at != hostedDescSector || n != hostedDescSectors {
		return "", true, fmt.Errorf("embedded descriptor at sector %d (%d sectors) is not this simulator's", at, n)
	}
	buf := make([]byte, n*512)
	if err := readFull(f, buf, at*512); err != nil {
		return "", true, err
	}
	return string(buf), true, nil
}

// rewriteHostedDescriptor replaces the descriptor embedded in the hosted sparse file at path.
func rewriteHostedDescriptor(path, desc string) error {
	if len(desc) >= hostedDescSectors*512 {
		return fmt.Errorf("descriptor of %d bytes does not fit", len(desc))
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	buf := make([]byte, hostedDescSectors*512)
	copy(buf, desc)
	err = writeAll(f, []chunk{{buf, hostedDescSector * 512}})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

type hostedTables struct {
	sectorTables
	next int64 // bytes: where the next grain goes
}

func loadHosted(f *os.File, capacity int64) (linkData, error) {
	h := make([]byte, 512)
	if err := readFull(f, h, 0); err != nil {
		return nil, err
	}
	u64 := func(off int) int64 { return int64(binary.LittleEndian.Uint64(h[off:])) }
	sectors := u64(12)
	tables, _, overhead := hostedLayout(sectors)
	switch {
	case string(h[:4]) != "KDMV":
		return nil, fmt.Errorf("not a hosted sparse extent")
	case u64(20) != hostedGrainSectors || binary.LittleEndian.Uint32(h[44:]) != hostedGTEntries || u64(56) != hostedGDSector:
		return nil, fmt.Errorf("hosted sparse layout is not this simulator's")
	case binary.LittleEndian.Uint16(h[77:]) != 0:
		return nil, fmt.Errorf("compressed hosted sparse extents are not supported")
	case sectors*512 < capacity || u64(64) != overhead:
		return nil, fmt.Errorf("hosted sparse capacity %d sectors does not fit the disk", sectors)
	}
	t := &hostedTables{}
	if err := t.load(f, hostedGDSector, tables, hostedGTEntries); err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	t.next = alignUp(st.Size(), hostedGrainSectors*512)
	if t.next < overhead*512 {
		t.next = overhead * 512
	}
	return &sparseLink{f: f, capacity: capacity, grain: hostedGrainSectors * 512, perGT: hostedGTEntries, tables: t}, nil
}

func (t *hostedTables) allocate(g, n int64) (int64, error) {
	if !t.hasTable(g / hostedGTEntries) {
		return 0, fmt.Errorf("hosted sparse grain table %d is missing", g/hostedGTEntries)
	}
	first := t.next
	if first/512+n*hostedGrainSectors > 1<<32-1 {
		return 0, fmt.Errorf("hosted sparse extent full")
	}
	t.next += n * hostedGrainSectors * 512
	entries, err := t.setEntries(g, n, first/512, hostedGrainSectors)
	if err != nil {
		return 0, err
	}
	return first, writeAll(t.f, []chunk{entries})
}
