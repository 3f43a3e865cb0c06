// Concept: the assumed parts of the vCenter contract (DESIGN.md, points marked *assumed*),
// each decided in exactly one place and switchable by a flag.

package main

import "fmt"

// svMotionSource is the sourceId under which the simulator itself holds RelocateVM_Task on a VM
// while a simulated Storage vMotion of that VM runs (assumption: vCenter does the same, which is
// what the VDDK guide's MethodAlreadyDisabledFault retry loop waits for).
const svMotionSource = "com.vmware.vcenter.svmotion"

// policy holds the switchable assumptions. Each field is read in exactly one function:
//   - sameSourceFault: disableTable.disable
//   - sessionScope:    disableTable.dropSession
//   - svMotionHold:    mover.start
type policy struct {
	// sameSourceFault: when a source disables a method it already holds, answer
	// MethodAlreadyDisabledFault naming itself (true) instead of succeeding silently (false).
	sameSourceFault bool
	// sessionScope: disables made with sessionScope=true end with the session that made them
	// (Logout, TerminateSession, admin or idle expiry) (true), or persist like any other (false).
	sessionScope bool
	// svMotionHold: a running relocation holds RelocateVM_Task on the VM under svMotionSource.
	svMotionHold bool
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
