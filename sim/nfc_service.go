// Concept: the NfcService in the SOAP front door (reference/nfc.md §1) — RetrieveInternalContent
// on the ServiceInstance names it (moref nfcService on vCenter, ha-nfc-service on ESXi), and its
// ticket methods (NfcGetVmFiles, NfcRandomAccessOpenReadonly, NfcRandomAccessOpenDisk) answer a
// HostServiceTicket for the NFC port of the VM's host, recorded in the ticket table;
// NfcGetServerNfcLibVersion answers the modelled ESXi's library version.

package main

import (
	"net/http"
	"reflect"
	"strings"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

const (
	nfcServiceVC  = "nfcService"     // nfc.md §1 table, vCenter 8.0.1
	nfcServiceESX = "ha-nfc-service" // nfc.md §1 table, ESXi 8.0.3
	serviceVC     = "vpxa-nfc"       // ticket service, nfc.md §1
	serviceESX    = "nfc"
	nfcServiceVer = "1.1" // HostServiceTicket.serviceVersion, nfc.md §1
	ticketHostVC  = "127.0.0.1"
)

// nfcNamespaces are the method namespaces accepted (nfc.md §1.3: VDDK sends urn:vim25, urn:nfc
// also worked; urn:internalvim25 is where the WSDL puts these internal methods).
var nfcNamespaces = map[string]bool{"urn:vim25": true, "urn:nfc": true, "urn:internalvim25": true}

// nfcTicketRequest is the body of the three ticket methods and of NfcGetServerNfcLibVersion
// (nfc.md §1 table: vm, diskDeviceKey, hostForAccess after _this).
type nfcTicketRequest struct {
	This          types.ManagedObjectReference  `xml:"_this"`
	VM            *types.ManagedObjectReference `xml:"vm"`
	DiskDeviceKey *int32                        `xml:"diskDeviceKey"`
	HostForAccess *types.ManagedObjectReference `xml:"hostForAccess"`
}

type retrieveInternalContentRequest struct {
	This types.ManagedObjectReference `xml:"_this"`
}

type internalContentResponse struct {
	Returnval struct {
		NfcService types.ManagedObjectReference `xml:"nfcService"`
	} `xml:"returnval"`
}

type nfcTicketResponse struct {
	Returnval types.HostServiceTicket `xml:"returnval"`
}

type nfcVersionResponse struct {
	Returnval int32 `xml:"returnval"`
}

// nfcMethods maps each ticket method onto its ticket kind and privilege (nfc.md §1 Privileges [I]).
var nfcMethods = map[string]struct {
	kind      ticketKind
	privilege string
}{
	"NfcGetVmFiles":               {ticketVMFiles, "VirtualMachine.Provisioning.GetVmFiles"},
	"NfcRandomAccessOpenReadonly": {ticketRandomRead, "VirtualMachine.Provisioning.DiskRandomRead"},
	"NfcRandomAccessOpenDisk":     {ticketRandomRW, "VirtualMachine.Provisioning.DiskRandomAccess"},
}

func nfcRequestType(name string) (reflect.Type, bool) {
	switch {
	case name == "RetrieveInternalContent":
		return reflect.TypeOf(retrieveInternalContentRequest{}), true
	case strings.HasPrefix(name, "Nfc"):
		return reflect.TypeOf(nfcTicketRequest{}), true
	}
	return nil, false
}

func (h *nfcHub) serviceMoref() types.ManagedObjectReference {
	if h.esx {
		return types.ManagedObjectReference{Type: "NfcService", Value: nfcServiceESX}
	}
	return types.ManagedObjectReference{Type: "NfcService", Value: nfcServiceVC}
}

// serveSOAP answers the calls of the NfcService and RetrieveInternalContent for an authenticated
// user; it reports whether c was one of them (false: the front door goes on with it).
func (h *nfcHub) serveSOAP(w http.ResponseWriter, c call, user string, body []byte) bool {
	isContent := c.Name == "RetrieveInternalContent"
	if !isContent && c.This.Type != "NfcService" && !strings.HasPrefix(c.Name, "Nfc") {
		return false
	}
	if isContent && c.This.Type != "ServiceInstance" || !isContent && c.This != h.serviceMoref() {
		writeFault(w, &types.ManagedObjectNotFound{Obj: c.This},
			"The object '%s:%s' has already been deleted or has not been completely created", c.This.Type, c.This.Value)
		return true
	}
	if !nfcNamespaces[c.Space] {
		writeFault(w, &types.InvalidRequest{}, "Method %s in namespace %q (want urn:vim25, urn:nfc or urn:internalvim25)", c.Name, c.Space)
		return true
	}
	m, err := simulator.UnmarshalBody(nfcRequestType, body)
	if err != nil {
		writeFault(w, &types.InvalidRequest{}, "%s", err)
		return true
	}
	if isContent {
		var res internalContentResponse
		res.Returnval.NfcService = h.serviceMoref()
		writeResult(w, "RetrieveInternalContentResponse", &res)
		return true
	}
	req := m.Body.(*nfcTicketRequest)
	if c.Name == "NfcGetServerNfcLibVersion" {
		h.libVersion(w, req)
		return true
	}
	method, ok := nfcMethods[c.Name]
	if !ok {
		writeFault(w, &types.NotSupported{}, "%s is not simulated", c.Name)
		return true
	}
	h.ticket(w, c.Name, method.kind, method.privilege, user, req)
	return true
}

// libVersion answers NfcGetServerNfcLibVersion(hostForAccess) (nfc.md §1: required; ESXi 8 → 11,
// 7.0 → 7, 6.7 → 2, 6.5 → 0, 6.0 InvalidRequest).
func (h *nfcHub) libVersion(w http.ResponseWriter, req *nfcTicketRequest) {
	if req.HostForAccess == nil {
		writeFault(w, &types.InvalidRequest{}, "Required parameter hostForAccess is missing")
		return
	}
	if h.byMoref[req.HostForAccess.Value] == nil || req.HostForAccess.Type != "HostSystem" {
		writeFault(w, &types.ManagedObjectNotFound{Obj: *req.HostForAccess},
			"The object '%s:%s' has already been deleted or has not been completely created", req.HostForAccess.Type, req.HostForAccess.Value)
		return
	}
	if h.esxi().noVersion {
		writeFault(w, &types.InvalidRequest{}, "NfcGetServerNfcLibVersion is not supported by this host")
		return
	}
	writeResult(w, "NfcGetServerNfcLibVersionResponse", &nfcVersionResponse{Returnval: int32(h.esxi().libVersion)})
}

// ticket issues a HostServiceTicket for vm (and, for random access, one disk on hostForAccess).
// Assumed where nfc.md is silent: hostForAccess must be vm.runtime.host (VDDK sends that, §1) or
// InvalidArgument{hostForAccess}; a device key the VM lacks gets InvalidArgument{diskDeviceKey};
// missing arguments get InvalidRequest.
func (h *nfcHub) ticket(w http.ResponseWriter, name string, kind ticketKind, privilege, user string, req *nfcTicketRequest) {
	random := kind != ticketVMFiles
	if req.VM == nil || random && (req.DiskDeviceKey == nil || req.HostForAccess == nil) {
		writeFault(w, &types.InvalidRequest{}, "Required parameter missing for %s", name)
		return
	}
	host, ok := h.vms.vmHost(req.VM.Value)
	if !ok || req.VM.Type != "VirtualMachine" {
		writeFault(w, &types.ManagedObjectNotFound{Obj: *req.VM},
			"The object '%s:%s' has already been deleted or has not been completely created", req.VM.Type, req.VM.Value)
		return
	}
	if h.pol.privileges && !h.users.granted(user, privilege) {
		writeFault(w, &types.NoPermission{Object: *req.VM, PrivilegeId: privilege}, "Permission to perform this operation was denied.")
		return
	}
	var key int32
	if random {
		if req.HostForAccess.Type != "HostSystem" || req.HostForAccess.Value != host {
			writeFault(w, &types.InvalidArgument{InvalidProperty: "hostForAccess"}, "A specified parameter was not correct: hostForAccess")
			return
		}
		if key = *req.DiskDeviceKey; !h.vms.hasDisk(req.VM.Value, key) {
			writeFault(w, &types.InvalidArgument{InvalidProperty: "diskDeviceKey"}, "A specified parameter was not correct: diskDeviceKey")
			return
		}
	}
	nh := h.byMoref[host]
	if nh == nil {
		writeFault(w, &types.ManagedObjectNotFound{Obj: types.ManagedObjectReference{Type: "HostSystem", Value: host}},
			"The object 'HostSystem:%s' has already been deleted or has not been completely created", host)
		return
	}
	service, ticketHost := serviceVC, ticketHostVC
	if h.esx {
		service, ticketHost = serviceESX, "" // nfc.md §1: host absent, dial the host logged in to
	}
	tk, err := h.tickets.issue(kind, req.VM.Value, key, host, service)
	if err != nil {
		writeFault(w, &types.SystemError{Reason: err.Error()}, "Cannot make a ticket: %v", err)
		return
	}
	writeResult(w, name+"Response", &nfcTicketResponse{Returnval: types.HostServiceTicket{
		Host: ticketHost, Port: int32(nh.port), SslThumbprint: nh.sha1,
		Service: service, ServiceVersion: nfcServiceVer, SessionId: tk.id,
	}})
}
