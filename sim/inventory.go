// Concept: the vcsim inventory — the model built for a mode and VM count, the in-process client
// the simulator uses to act on it, and the VM list served by the admin endpoint.

package main

import (
	"context"
	"fmt"
	"path"
	"sort"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

type inventory struct {
	model  *simulator.Model
	client *vim25.Client // in-process: calls bypass HTTP and the front door
}

// vmInfo is the admin endpoint's JSON form of a VM: enough to build a vmxSpec, its power state,
// its disks and its snapshots' disks (filled in by the admin endpoint from the disk store).
type vmInfo struct {
	Moref      string         `json:"moref"`
	Name       string         `json:"name"`
	Vmx        string         `json:"vmx"`
	Datacenter string         `json:"datacenter"`
	Datastore  string         `json:"datastore"`
	Dir        string         `json:"dir"`
	File       string         `json:"file"`
	PowerState string         `json:"power_state"`
	Disks      []diskView     `json:"disks"`
	Snapshots  []snapshotView `json:"snapshots"`
}

// buildInventory creates the vcsim model: the VPX model (one datacenter, a standalone host and a
// three-host cluster, VMs split between them) for vcenter, the ESX model for esx; vms VMs in all.
func buildInventory(ctx context.Context, mode string, vms int) (*inventory, error) {
	var model *simulator.Model
	extra := 0
	switch mode {
	case "vcenter":
		model = simulator.VPX()
		// VMs are created per resource pool: the standalone host's and the cluster's.
		model.Machine = (vms + 1) / 2
		extra = 2*model.Machine - vms
	case "esx":
		model = simulator.ESX()
		model.Machine = vms
	default:
		return nil, fmt.Errorf("--mode: want vcenter or esx, got %q", mode)
	}

	if err := model.Create(); err != nil {
		return nil, err
	}
	inv := &inventory{model: model}
	var err error
	if inv.client, err = vim25.NewClient(ctx, model.Service); err != nil {
		model.Remove()
		return nil, err
	}
	if extra == 1 {
		name := fmt.Sprintf("DC0_C0_RP0_VM%d", model.Machine-1)
		if err = inv.destroyVM(ctx, name); err != nil {
			model.Remove()
			return nil, err
		}
	}
	return inv, nil
}

// destroyVM powers off and destroys the VM with the given name.
func (inv *inventory) destroyVM(ctx context.Context, name string) error {
	for _, e := range simulator.Map.All("VirtualMachine") {
		if e.Entity().Name != name {
			continue
		}
		vm := object.NewVirtualMachine(inv.client, e.Reference())
		if task, err := vm.PowerOff(ctx); err == nil {
			_ = task.Wait(ctx)
		}
		task, err := vm.Destroy(ctx)
		if err != nil {
			return err
		}
		return task.Wait(ctx)
	}
	return fmt.Errorf("no VM named %s", name)
}

// terminateSession ends a session inside vcsim so its cookie is refused; an unknown key is ignored.
func (inv *inventory) terminateSession(ctx context.Context, key string) {
	_, _ = methods.TerminateSession(ctx, inv.client, &types.TerminateSession{
		This:      *inv.client.ServiceContent.SessionManager,
		SessionId: []string{key},
	})
}

// vms lists every VM, ordered by name.
func (inv *inventory) vms() []vmInfo {
	out := []vmInfo{}
	for _, e := range simulator.Map.All("VirtualMachine") {
		var info vmInfo
		var parent *types.ManagedObjectReference
		simulator.Map.WithLock(e, func() {
			vm := e.(*simulator.VirtualMachine)
			info.Moref = vm.Self.Value
			info.Name = vm.Name
			if vm.Config != nil {
				info.Vmx = vm.Config.Files.VmPathName
			}
			parent = vm.Parent
		})
		var p object.DatastorePath
		if p.FromString(info.Vmx) {
			info.Datastore = p.Datastore
			info.Dir = path.Dir(p.Path)
			info.File = path.Base(p.Path)
		}
		info.Datacenter = datacenterName(parent)
		out = append(out, info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// datacenterName walks up the inventory from ref to the enclosing Datacenter.
func datacenterName(ref *types.ManagedObjectReference) string {
	for ref != nil {
		obj := simulator.Map.Get(*ref)
		e, ok := obj.(mo.Entity)
		if !ok {
			return ""
		}
		var name string
		var parent *types.ManagedObjectReference
		simulator.Map.WithLock(obj, func() {
			name, parent = e.Entity().Name, e.Entity().Parent
		})
		if ref.Type == "Datacenter" {
			return name
		}
		ref = parent
	}
	return ""
}

// close removes the files vcsim created (datastore directories).
func (inv *inventory) close() {
	inv.model.Remove()
}
