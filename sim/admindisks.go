// Concept: the admin endpoint's disk requests, for tests only — the disks and snapshots of each
// VM in GET /vms, guest writes into a VM's current disk (POST /guest/write), the true content hash
// and allocation map of a VM's disk or of a snapshot's (GET /disk/sha256, GET /disk/allocated),
// computed by the simulator's own reader from the files, the rate at which that reader reads a disk
// (GET /disk/readrate: the ceiling of what the data paths can serve, for benchmarks), and a CBT
// reset (POST /cbt/reset).

package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/vmware/govmomi/vim25/types"
)

// diskView is a disk in GET /vms.
type diskView struct {
	Key      int32    `json:"key"`
	FileName string   `json:"file_name"`
	Capacity int64    `json:"capacity,omitempty"`
	Chain    []string `json:"chain"` // descriptors, file_name first, base last
	ChangeId string   `json:"change_id"`
	Seed     string   `json:"seed,omitempty"` // hex: the stream of the base's data regions
	UUID     string   `json:"uuid,omitempty"`
	DiskMode string   `json:"disk_mode,omitempty"`
}

// snapshotView is a snapshot in GET /vms: the disks its configuration names.
type snapshotView struct {
	Moref string     `json:"moref"`
	Disks []diskView `json:"disks"`
}

// describe lists a VM's disks and its snapshots' disks (empty for a VM the store does not know).
func (st *diskStore) describe(vm types.ManagedObjectReference) ([]diskView, []snapshotView) {
	disks, snaps := []diskView{}, []snapshotView{}
	v := st.vm(vm.Value)
	if v == nil {
		return disks, snaps
	}
	v.mu.RLock()
	defer v.mu.RUnlock()
	for _, d := range v.disks {
		disks = append(disks, diskView{Key: d.key, FileName: d.leaf.path, Capacity: d.capacity, Chain: chainPaths(d.leaf),
			ChangeId: d.ctk.currentChangeId(), Seed: strconv.FormatUint(d.seed, 16), UUID: d.uuid, DiskMode: d.mode})
	}
	for _, s := range v.snaps {
		sv := snapshotView{Moref: s.ref.Value, Disks: []diskView{}}
		for _, d := range v.disks {
			if p := s.points[d.key]; p != nil {
				sv.Disks = append(sv.Disks, diskView{Key: d.key, FileName: p.path, Chain: chainPaths(p), ChangeId: s.changeIds[d.key]})
			}
		}
		snaps = append(snaps, sv)
	}
	sort.Slice(snaps, func(i, j int) bool { return snaps[i].Moref < snaps[j].Moref })
	return disks, snaps
}

// errNotFound marks admin errors that answer 404.
type errNotFound struct{ what string }

func (e errNotFound) Error() string { return e.what }

// diskOf resolves vm, disk key and (optional) snapshot to a descriptor.
func (a *admin) diskOf(vm string, key int32, snapshot string) (string, error) {
	if vm == "" || key == 0 {
		return "", errors.New("vm and disk are required")
	}
	ref := types.ManagedObjectReference{Type: "VirtualMachine", Value: vm}
	var snap *types.ManagedObjectReference
	if snapshot != "" {
		snap = &types.ManagedObjectReference{Type: "VirtualMachineSnapshot", Value: snapshot}
	}
	p, err := a.store.diskPath(ref, key, snap)
	if err != nil {
		return "", errNotFound{err.Error()}
	}
	return p, nil
}

// status maps an error of diskOf to its answer.
func status(err error) int {
	var nf errNotFound
	if errors.As(err, &nf) {
		return http.StatusNotFound
	}
	return http.StatusBadRequest
}

// guestWrite writes the stream of seed (or zeros) at [offset, offset+length) of a VM's current
// disk, as the guest would: into the top delta when the VM has snapshots, recorded by CBT.
func (a *admin) guestWrite(r *http.Request) (interface{}, int, error) {
	var q struct {
		VM     string `json:"vm"`
		Disk   int32  `json:"disk"`
		Offset int64  `json:"offset"`
		Length int64  `json:"length"`
		Seed   uint64 `json:"seed"`
		Zero   bool   `json:"zero"`
	}
	if err := readJSON(r, &q); err != nil {
		return nil, http.StatusBadRequest, err
	}
	file, err := a.diskOf(q.VM, q.Disk, "")
	if err != nil {
		return nil, status(err), err
	}
	d, err := a.store.openLogical(file, true)
	if err != nil {
		return nil, http.StatusConflict, err
	}
	if q.Offset < 0 || q.Length <= 0 || q.Offset > d.Size() || q.Length > d.Size()-q.Offset {
		d.Close()
		return nil, http.StatusBadRequest, fmt.Errorf("offset %d + length %d outside the disk (%d bytes)", q.Offset, q.Length, d.Size())
	}
	buf := make([]byte, minInt64(q.Length, 1<<20))
	for off, end := q.Offset, q.Offset+q.Length; off < end; {
		p := buf[:minInt64(int64(len(buf)), end-off)]
		if q.Zero {
			zeroBytes(p)
		} else {
			fillPattern(q.Seed, off, p)
		}
		if _, err := d.WriteAt(p, off); err != nil {
			d.Close()
			return nil, http.StatusInternalServerError, err
		}
		off += int64(len(p))
	}
	if err := d.Close(); err != nil {
		return nil, http.StatusInternalServerError, err
	}
	return map[string]string{"file": file}, http.StatusOK, nil
}

// diskQuery reads vm, disk and snapshot from a query string and opens that disk read-only.
func (a *admin) diskQuery(r *http.Request) (logicalDisk, string, int, error) {
	q := r.URL.Query()
	key, err := strconv.ParseInt(q.Get("disk"), 10, 32)
	if err != nil {
		return nil, "", http.StatusBadRequest, fmt.Errorf("bad disk %q", q.Get("disk"))
	}
	file, err := a.diskOf(q.Get("vm"), int32(key), q.Get("snapshot"))
	if err != nil {
		return nil, "", status(err), err
	}
	d, err := a.store.openLogical(file, false)
	if err != nil {
		return nil, "", http.StatusInternalServerError, err
	}
	return d, file, http.StatusOK, nil
}

// diskHash answers the SHA-256 of a disk's whole content.
func (a *admin) diskHash(r *http.Request) (interface{}, int, error) {
	d, file, code, err := a.diskQuery(r)
	if err != nil {
		return nil, code, err
	}
	defer d.Close()
	h := sha256.New()
	buf := make([]byte, 1<<20)
	for off := int64(0); off < d.Size(); {
		n, err := d.ReadAt(buf[:minInt64(int64(len(buf)), d.Size()-off)], off)
		if err != nil {
			return nil, http.StatusInternalServerError, err
		}
		h.Write(buf[:n])
		off += int64(n)
	}
	return map[string]interface{}{"sha256": hex.EncodeToString(h.Sum(nil)), "size": d.Size(), "file": file}, http.StatusOK, nil
}

// diskReadRate reads a disk's whole content through the simulator's own reader (openLogical, what
// the NFC responder serves from) into one reused buffer of chunk bytes (default 1 MiB, at most
// 64 MiB) and answers how long that took: no network, no hashing, no copy beyond the reader's.
func (a *admin) diskReadRate(r *http.Request) (interface{}, int, error) {
	chunk := int64(1 << 20)
	if c := r.URL.Query().Get("chunk"); c != "" {
		n, err := strconv.ParseInt(c, 10, 64)
		if err != nil || n < 512 || n > 64<<20 || n%512 != 0 {
			return nil, http.StatusBadRequest, fmt.Errorf("bad chunk %q (512 bytes to 64 MiB, a multiple of 512)", c)
		}
		chunk = n
	}
	d, file, code, err := a.diskQuery(r)
	if err != nil {
		return nil, code, err
	}
	defer d.Close()
	buf := make([]byte, chunk)
	began := time.Now()
	for off := int64(0); off < d.Size(); {
		n, err := d.ReadAt(buf[:minInt64(chunk, d.Size()-off)], off)
		if err != nil {
			return nil, http.StatusInternalServerError, err
		}
		off += int64(n)
	}
	secs := time.Since(began).Seconds()
	return map[string]interface{}{"file": file, "bytes": d.Size(), "chunk": chunk, "seconds": secs,
		"bytes_per_second": float64(d.Size()) / secs}, http.StatusOK, nil
}

// diskAllocated answers the allocation map of a disk (the union over its chain, at the grain of
// each link: the file system's block for flat extents).
func (a *admin) diskAllocated(r *http.Request) (interface{}, int, error) {
	d, file, code, err := a.diskQuery(r)
	if err != nil {
		return nil, code, err
	}
	defer d.Close()
	runs := []extentRun{}
	for off := int64(0); off < d.Size(); {
		alloc, run, err := d.Allocated(off, d.Size()-off)
		if err != nil {
			return nil, http.StatusInternalServerError, err
		}
		if alloc {
			runs = addRun(runs, extentRun{off, run})
		}
		off += run
	}
	return map[string]interface{}{"file": file, "size": d.Size(), "allocated": runs}, http.StatusOK, nil
}

// cbtReset drops the change record of a VM's disks: older changeIds fault from now on.
func (a *admin) cbtReset(r *http.Request) (interface{}, int, error) {
	var q struct {
		VM string `json:"vm"`
	}
	if err := readJSON(r, &q); err != nil {
		return nil, http.StatusBadRequest, err
	}
	v := a.store.vm(q.VM)
	if v == nil {
		return nil, http.StatusNotFound, fmt.Errorf("no VM %q", q.VM)
	}
	return map[string]interface{}{"change_ids": a.store.cbtReset(v)}, http.StatusOK, nil
}
