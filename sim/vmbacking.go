// Concept: what vSphere clients see of the disk store — the VirtualDisk devices of a VM's
// config.hardware.device and of each snapshot's config, with backings that name the store's files
// (fileName, parent chain, deltaDiskFormat, changeId, uuid, thinProvisioned, diskMode) — and the
// deep copy that keeps a snapshot's config from following the VM's.
//
// Design: backings are rebuilt from the store after every change and put into vcsim's objects as
// new device objects (never edited in place), so a configuration that shares devices with another
// (vcsim's shallow snapshot copy) cannot follow it. Every backing is a
// VirtualDiskFlatVer2BackingInfo, as ESXi reports the deltas of a flat disk, with deltaDiskFormat
// seSparseFormat (deltaGrainSize 4, KB) or redoLogFormat (vmfsSparseVariant for COWD).

package main

import (
	"reflect"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

// backing builds the backing of disk d whose head is l; changeId goes on the head only.
func (st *diskStore) backing(d *vdisk, l *link, changeId string) *types.VirtualDiskFlatVer2BackingInfo {
	ds := st.dsRefs[d.ds]
	b := &types.VirtualDiskFlatVer2BackingInfo{
		VirtualDeviceFileBackingInfo: types.VirtualDeviceFileBackingInfo{FileName: l.path, Datastore: &ds},
		DiskMode:                     d.mode,
		Split:                        types.NewBool(false),
		WriteThrough:                 types.NewBool(false),
		ThinProvisioned:              types.NewBool(true),
		EagerlyScrub:                 types.NewBool(false),
		DigestEnabled:                types.NewBool(false),
		Uuid:                         d.uuid,
		ChangeId:                     changeId,
	}
	if l.parent != nil {
		b.Parent = st.backing(d, l.parent, "")
		switch l.format {
		case formatSESparse:
			b.DeltaDiskFormat = string(types.VirtualDiskDeltaDiskFormatSeSparseFormat)
			b.DeltaGrainSize = seGrainSectors * 512 / 1024
		case formatVmfsSparse:
			b.DeltaDiskFormat = string(types.VirtualDiskDeltaDiskFormatRedoLogFormat)
			b.DeltaDiskFormatVariant = string(types.VirtualDiskDeltaDiskFormatVariantVmfsSparseVariant)
		default:
			b.DeltaDiskFormat = string(types.VirtualDiskDeltaDiskFormatRedoLogFormat)
		}
	}
	return b
}

// withBackings returns a copy of devices whose store disks (of v) have new backings: head(d)
// names each disk's head link and changeId (nil head: the device is left as it is).
func (st *diskStore) withBackings(v *vmDisks, devices []types.BaseVirtualDevice,
	head func(d *vdisk) (*link, string)) []types.BaseVirtualDevice {
	out := make([]types.BaseVirtualDevice, len(devices))
	for i, dev := range devices {
		out[i] = dev
		disk, ok := dev.(*types.VirtualDisk)
		if !ok {
			continue
		}
		for _, d := range v.disks {
			if d.key != disk.Key {
				continue
			}
			if l, changeId := head(d); l != nil {
				c := deepCopy(disk).(*types.VirtualDisk)
				c.Backing = st.backing(d, l, changeId)
				out[i] = c
			}
		}
	}
	return out
}

// syncVM puts the VM's current backings (each disk's leaf) into vcsim's VM.
func (st *diskStore) syncVM(v *vmDisks) {
	vm, ok := simulator.Map.Get(v.ref).(*simulator.VirtualMachine)
	if !ok {
		return
	}
	simulator.Map.WithLock(vm, func() {
		devices := st.withBackings(v, vm.Config.Hardware.Device, func(d *vdisk) (*link, string) {
			return d.leaf, d.ctk.currentChangeId()
		})
		simulator.Map.Update(vm, []types.PropertyChange{{Name: "config.hardware.device", Val: devices}})
	})
}

// syncSnapshot puts a snapshot's backings (its points) into vcsim's snapshot object.
func (st *diskStore) syncSnapshot(v *vmDisks, s *snapPoint) {
	snap, ok := simulator.Map.Get(s.ref).(*simulator.VirtualMachineSnapshot)
	if !ok {
		return
	}
	simulator.Map.WithLock(snap, func() {
		devices := st.withBackings(v, snap.Config.Hardware.Device, func(d *vdisk) (*link, string) {
			return s.points[d.key], s.changeIds[d.key]
		})
		simulator.Map.Update(snap, []types.PropertyChange{{Name: "config.hardware.device", Val: devices}})
	})
}

// syncAll refreshes the VM and every snapshot of it.
func (st *diskStore) syncAll(v *vmDisks) {
	st.syncVM(v)
	for _, s := range v.snaps {
		st.syncSnapshot(v, s)
	}
}

// deepCopy returns a copy of x sharing no pointers, slices, maps or interfaces with it.
func deepCopy(x interface{}) interface{} {
	if x == nil {
		return nil
	}
	return copyValue(reflect.ValueOf(x)).Interface()
}

func copyValue(v reflect.Value) reflect.Value {
	switch v.Kind() {
	case reflect.Ptr:
		if v.IsNil() {
			return v
		}
		c := reflect.New(v.Elem().Type())
		c.Elem().Set(copyValue(v.Elem()))
		return c
	case reflect.Interface:
		if v.IsNil() {
			return v
		}
		c := reflect.New(v.Type()).Elem()
		c.Set(copyValue(v.Elem()))
		return c
	case reflect.Slice:
		if v.IsNil() {
			return v
		}
		c := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := 0; i < v.Len(); i++ {
			c.Index(i).Set(copyValue(v.Index(i)))
		}
		return c
	case reflect.Map:
		if v.IsNil() {
			return v
		}
		c := reflect.MakeMapWithSize(v.Type(), v.Len())
		for _, k := range v.MapKeys() {
			c.SetMapIndex(copyValue(k), copyValue(v.MapIndex(k)))
		}
		return c
	case reflect.Struct:
		c := reflect.New(v.Type()).Elem()
		c.Set(v) // unexported fields (time.Time's) by value
		for i := 0; i < v.NumField(); i++ {
			if c.Field(i).CanSet() {
				c.Field(i).Set(copyValue(v.Field(i)))
			}
		}
		return c
	}
	return v
}
