// Concept: the thin flat extent of a vmfs disk (x-flat.vmdk): a file of the disk's size, sparse on
// the host file system, whose holes are the disk's never-written areas.
//
// Design: reads and writes go straight to the file; state() asks the host file system where data
// is (lseek SEEK_DATA / SEEK_HOLE), so the allocation granularity is the file system's block (what
// VMFS's thin-disk blocks are on ESXi). A flat extent is always a chain's bottom: its holes read as
// zeros, never as a parent.

package main

import (
	"errors"
	"os"
	"syscall"
)

const (
	seekData = 3 // lseek(2) SEEK_DATA
	seekHole = 4 // lseek(2) SEEK_HOLE
)

type flatLink struct {
	f        *os.File
	capacity int64
}

// createFlat writes an empty (all hole) flat extent of capacity bytes at path.
func createFlat(path string, capacity int64) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	err = f.Truncate(capacity)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func loadFlat(f *os.File, capacity int64) (linkData, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() < capacity {
		return nil, errors.New("flat extent is shorter than the disk")
	}
	return &flatLink{f: f, capacity: capacity}, nil
}

func (l *flatLink) size() int64      { return l.capacity }
func (l *flatLink) grainSize() int64 { return 512 }
func (l *flatLink) sync() error      { return l.f.Sync() }
func (l *flatLink) close() error     { return l.f.Close() }

func (l *flatLink) readAt(p []byte, off int64) error {
	return readFull(l.f, p, off)
}

func (l *flatLink) writeAt(p []byte, off int64) error {
	_, err := l.f.WriteAt(p, off)
	return err
}

func (l *flatLink) state(off, n int64) (grainState, int64, error) {
	fd := int(l.f.Fd())
	data, err := syscall.Seek(fd, off, seekData)
	if errors.Is(err, syscall.ENXIO) { // no data from off to the end
		return stateZero, n, nil
	}
	if err != nil {
		return 0, 0, err
	}
	if data > off {
		return stateZero, minInt64(data-off, n), nil
	}
	hole, err := syscall.Seek(fd, off, seekHole)
	if err != nil {
		return 0, 0, err
	}
	return stateData, minInt64(hole-off, n), nil
}

func minInt64(a, b int64) int64 {
	if a < b {
		return a
	}
	return b
}
