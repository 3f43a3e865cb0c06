// Concept: the assumed parts of the vCenter contract (DESIGN.md, points marked *assumed*),
// each decided in exactly one place and switchable by a flag.

package main

import (
	"fmt"
	"net/http"
	"time"
)

// svMotionSource is the sourceId under which the simulator itself holds RelocateVM_Task on a VM
// while a simulated Storage vMotion of that VM runs (assumption: vCenter does the same, which is
// what the VDDK guide's MethodAlreadyDisabledFault retry loop waits for).
const svMotionSource = "com.vmware.vcenter.svmotion"

// lockedStatus is the HTTP status /folder answers for a file a running VM holds locked (its
// writable top disk, and with --running-base-read refuse its read-only parents). Assumption:
// vic#6867 saw 500 from a /folder GET of a locked file; the body names the lock the way vSphere's
// message does ("Unable to access file ... since it is locked").
const lockedStatus = http.StatusInternalServerError

// ticketLifetime is how long an unused generic service ticket stays valid (undocumented; assumed).
const ticketLifetime = 10 * time.Minute

// cbtMaxAreas is the most changed areas one QueryChangedDiskAreas answer holds (remote-disk.md
// §4: "about 2000"); the answer's length then stops at the last area it holds.
const cbtMaxAreas = 2000

// policy holds the switchable assumptions. Each field is read in exactly one function:
//   - sameSourceFault: disableTable.disable
//   - sessionScope:    disableTable.dropSession
//   - svMotionHold:    mover.start
//   - runningBaseRead: diskStore.readRefusal
//   - deltaFormat:     diskStore.deltaSpec
//   - cbtBlock:        newCtk
type policy struct {
	// sameSourceFault: when a source disables a method it already holds, answer
	// MethodAlreadyDisabledFault naming itself (true) instead of succeeding silently (false).
	sameSourceFault bool
	// sessionScope: disables made with sessionScope=true end with the session that made them
	// (Logout, TerminateSession, admin or idle expiry) (true), or persist like any other (false).
	sessionScope bool
	// svMotionHold: a running relocation holds RelocateVM_Task on the VM under svMotionSource.
	svMotionHold bool
	// runningBaseRead: /folder serves the read-only parents (base, older deltas) of a powered-on
	// VM's disks (true), or refuses them like its writable top (false: what ESXi 8 reportedly does,
	// remote-disk.md §1).
	runningBaseRead bool
	// deltaFormat: the format of the delta a snapshot creates: formatSESparse (VMFS6),
	// formatVmfsSparse (VMFS5 below 2 TB) or formatHosted (hosted monolithicSparse, for comparison).
	deltaFormat string
	// cbtBlock: the granularity (bytes) at which Changed Block Tracking records writes and
	// reports areas.
	cbtBlock int64
}

// parseChoice maps a flag value onto a bool, naming the accepted values in the error.
func parseChoice(flagName, value, yes, no string) (bool, error) {
	switch value {
	case yes:
		return true, nil
	case no:
		return false, nil
	}
	return false, fmt.Errorf("--%s: want %q or %q, got %q", flagName, yes, no, value)
}
