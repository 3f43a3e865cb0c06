// Concept: tests of the NfcService through the freevix-sim binary with govmomi's SOAP client
// (nfc.md §1): RetrieveInternalContent, the ticket methods in each namespace, their faults, the
// start-up line's hosts, and a ticket carried to the host's NFC port (no disk backend in the
// binary yet, so OPEN_FILE answers "not found").

package main

import (
	"context"
	"crypto/sha1"
	"crypto/tls"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
	"github.com/vmware/govmomi/vim25/xml"
)

// rawCall is a SOAP request body naming its method's namespace and arguments (in order).
type rawCall struct {
	ns, method string
	args       []rawArg
}

type rawArg struct {
	name  string
	value interface{}
}

func (r *rawCall) Fault() *soap.Fault { return nil }

func (r *rawCall) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	m := xml.StartElement{Name: xml.Name{Local: r.method}, Attr: []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: r.ns}}}
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	if err := e.EncodeToken(m); err != nil {
		return err
	}
	for _, a := range r.args {
		if err := e.EncodeElement(a.value, xml.StartElement{Name: xml.Name{Local: a.name}}); err != nil {
			return err
		}
	}
	if err := e.EncodeToken(m.End()); err != nil {
		return err
	}
	return e.EncodeToken(start.End())
}

// anyReturn holds whichever of the NfcService's results came back.
type anyReturn struct {
	Returnval struct {
		types.HostServiceTicket
		NfcService types.ManagedObjectReference `xml:"nfcService"`
		Value      string                       `xml:",chardata"`
	} `xml:"returnval"`
}

type anyResBody struct {
	Res *anyReturn  `xml:",any"`
	Err *soap.Fault `xml:"http://schemas.xmlsoap.org/soap/envelope/ Fault,omitempty"`
}

func (b *anyResBody) Fault() *soap.Fault { return b.Err }

func soapCall(c *vim25.Client, ns, method string, args ...rawArg) (*anyReturn, error) {
	var res anyResBody
	err := c.RoundTrip(context.Background(), &rawCall{ns: ns, method: method, args: args}, &res)
	return res.Res, err
}

func arg(name string, v interface{}) rawArg { return rawArg{name, v} }

func mor(typ, value string) types.ManagedObjectReference {
	return types.ManagedObjectReference{Type: typ, Value: value}
}

// vmFacts returns a VM's runtime host and first disk key.
func vmFacts(t *testing.T, c *vim25.Client, vm types.ManagedObjectReference) (string, int32) {
	t.Helper()
	var m mo.VirtualMachine
	if err := property.DefaultCollector(c).RetrieveOne(context.Background(), vm, []string{"runtime.host", "config.hardware.device"}, &m); err != nil {
		t.Fatal(err)
	}
	for _, d := range m.Config.Hardware.Device {
		if disk, ok := d.(*types.VirtualDisk); ok {
			return m.Runtime.Host.Value, disk.Key
		}
	}
	t.Fatalf("%s has no disk", vm.Value)
	return "", 0
}

func (s *sim) hostPort(t *testing.T, moref string) int {
	t.Helper()
	for _, h := range s.Hosts {
		if h.Moref == moref {
			return h.NFCPort
		}
	}
	t.Fatalf("no host %s in the start-up line %+v", moref, s.Hosts)
	return 0
}

// servedSHA1 is the SHA-1 thumbprint of the certificate the NFC port shows after its banner.
func servedSHA1(t *testing.T, port int) string {
	t.Helper()
	raw, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := readLineRaw(raw); err != nil {
		t.Fatal(err)
	}
	c := tls.Client(raw, &tls.Config{InsecureSkipVerify: true})
	if err := c.Handshake(); err != nil {
		t.Fatal(err)
	}
	sum := sha1.Sum(c.ConnectionState().PeerCertificates[0].Raw)
	return colonHex(sum[:])
}

func TestNFCServiceVCenter(t *testing.T) {
	s := startSim(t)
	c := s.admin(t)
	if len(s.Hosts) != 4 {
		t.Fatalf("hosts %+v, want 4", s.Hosts)
	}
	ports := map[int]bool{}
	for _, h := range s.Hosts {
		if h.NFCPort == 0 || ports[h.NFCPort] || !strings.HasPrefix(h.Name, "DC0_") || !strings.HasPrefix(h.Moref, "host-") {
			t.Fatalf("host %+v", h)
		}
		ports[h.NFCPort] = true
	}

	si := mor("ServiceInstance", "ServiceInstance")
	res, err := soapCall(c, "urn:internalvim25", "RetrieveInternalContent", arg("_this", si))
	if err != nil || res.Returnval.NfcService != mor("NfcService", "nfcService") {
		t.Fatalf("RetrieveInternalContent: %+v %v", res, err)
	}
	_, err = soapCall(c, "urn:vim25", "NfcGetVmFiles", arg("_this", mor("NfcService", "ha-nfc")), arg("vm", s.vm(t, 0)))
	if f := faultOf[types.ManagedObjectNotFound](t, err); f.Obj.Value != "ha-nfc" {
		t.Fatalf("ha-nfc: %+v", f)
	}

	nfcSvc := arg("_this", mor("NfcService", "nfcService"))
	vm := s.vm(t, 0)
	host, key := vmFacts(t, c, vm)
	seen := map[string]bool{}
	for _, ns := range []string{"urn:vim25", "urn:nfc", "urn:internalvim25"} {
		res, err := soapCall(c, ns, "NfcGetVmFiles", nfcSvc, arg("vm", vm))
		if err != nil {
			t.Fatalf("NfcGetVmFiles in %s: %v", ns, err)
		}
		tk := res.Returnval.HostServiceTicket
		if tk.Host != "127.0.0.1" || int(tk.Port) != s.hostPort(t, host) || tk.Service != "vpxa-nfc" ||
			tk.ServiceVersion != "1.1" || len(tk.SessionId) != 36 || seen[tk.SessionId] {
			t.Fatalf("ticket %+v", tk)
		}
		seen[tk.SessionId] = true
		if got := servedSHA1(t, int(tk.Port)); got != tk.SslThumbprint {
			t.Fatalf("ticket thumbprint %s, host shows %s", tk.SslThumbprint, got)
		}
	}
	if _, err := soapCall(c, "urn:bogus", "NfcGetVmFiles", nfcSvc, arg("vm", vm)); err == nil {
		t.Fatal("urn:bogus accepted")
	} else {
		faultOf[types.InvalidRequest](t, err)
	}

	hostArg := arg("hostForAccess", mor("HostSystem", host))
	for _, m := range []string{"NfcRandomAccessOpenReadonly", "NfcRandomAccessOpenDisk"} {
		res, err := soapCall(c, "urn:vim25", m, nfcSvc, arg("vm", vm), arg("diskDeviceKey", key), hostArg)
		if err != nil || res.Returnval.SessionId == "" || int(res.Returnval.Port) != s.hostPort(t, host) {
			t.Fatalf("%s: %+v %v", m, res, err)
		}
		_, err = soapCall(c, "urn:vim25", m, nfcSvc, arg("vm", vm), arg("diskDeviceKey", key+77), hostArg)
		if f := faultOf[types.InvalidArgument](t, err); f.InvalidProperty != "diskDeviceKey" {
			t.Fatalf("%s bad key: %+v", m, f)
		}
		other := s.Hosts[0].Moref
		if other == host {
			other = s.Hosts[1].Moref
		}
		_, err = soapCall(c, "urn:vim25", m, nfcSvc, arg("vm", vm), arg("diskDeviceKey", key), arg("hostForAccess", mor("HostSystem", other)))
		if f := faultOf[types.InvalidArgument](t, err); f.InvalidProperty != "hostForAccess" {
			t.Fatalf("%s other host: %+v", m, f)
		}
		_, err = soapCall(c, "urn:vim25", m, nfcSvc, arg("vm", vm), hostArg)
		faultOf[types.InvalidRequest](t, err)
	}
	_, err = soapCall(c, "urn:vim25", "NfcGetVmFiles", nfcSvc, arg("vm", mor("VirtualMachine", "vm-99999")))
	faultOf[types.ManagedObjectNotFound](t, err)

	res, err = soapCall(c, "urn:vim25", "NfcGetServerNfcLibVersion", nfcSvc, hostArg)
	if err != nil || strings.TrimSpace(res.Returnval.Value) != "11" {
		t.Fatalf("NfcGetServerNfcLibVersion: %+v %v", res, err)
	}
	_, err = soapCall(c, "urn:vim25", "NfcGetServerNfcLibVersion", nfcSvc)
	faultOf[types.InvalidRequest](t, err)

	reader, err := s.login(t, s.ROUser, "freevix")
	if err != nil {
		t.Fatal(err)
	}
	_, err = soapCall(reader, "urn:vim25", "NfcGetVmFiles", nfcSvc, arg("vm", vm))
	if f := faultOf[types.NoPermission](t, err); f.PrivilegeId != "VirtualMachine.Provisioning.GetVmFiles" {
		t.Fatalf("reader: %+v", f)
	}
	anon, err := s.connect(t)
	if err != nil {
		t.Fatal(err)
	}
	_, err = soapCall(anon, "urn:vim25", "NfcGetVmFiles", nfcSvc, arg("vm", vm))
	faultOf[types.NotAuthenticated](t, err)

	// The ticket works once at its host's NFC port; the binary has no disk backend yet.
	res, err = soapCall(c, "urn:vim25", "NfcGetVmFiles", nfcSvc, arg("vm", vm))
	if err != nil {
		t.Fatal(err)
	}
	tk := res.Returnval.HostServiceTicket
	addr := net.JoinHostPort(tk.Host, strconv.Itoa(int(tk.Port)))
	for _, ssl := range []bool{false, true} {
		if ssl {
			res, _ = soapCall(c, "urn:vim25", "NfcGetVmFiles", nfcSvc, arg("vm", vm))
			tk = res.Returnval.HostServiceTicket
		}
		nc, err := dialNFC(addr, clientOpts{ticket: tk.SessionId, service: tk.Service, ssl: ssl, sha1: tk.SslThumbprint, sha2: true})
		if err != nil {
			t.Fatalf("ssl=%v: %v", ssl, err)
		}
		if err := nc.openSession(64 << 10); err != nil {
			t.Fatal(err)
		}
		_, _, err = nc.openFile("[LocalDS_0] DC0_H0_VM0/disk1.vmdk", false)
		wantCode(t, err, nfcErrNotFound, "open without a disk backend")
		nc.close()
	}
	_, err = dialNFC(addr, clientOpts{ticket: tk.SessionId, service: tk.Service, sha1: tk.SslThumbprint})
	if _, ok := err.(*authdRefusal); !ok || !strings.HasPrefix(err.Error(), "authd: 530") {
		t.Fatalf("used ticket: %v", err)
	}

	var st struct {
		Requests int64        `json:"requests"`
		NFC      nfcStatsView `json:"nfc"`
	}
	s.call(t, http.MethodGet, "/stats", nil, &st)
	if st.Requests == 0 || st.NFC.Proxied != 2 || st.NFC.Requests["OPEN_SESSION"] != 2 || st.NFC.Errors != 2 || st.NFC.Connections < 3 {
		t.Fatalf("stats %+v", st)
	}
	var tickets []ticketView
	s.call(t, http.MethodGet, "/nfc/tickets", nil, &tickets)
	if len(tickets) < 7 || len(tickets[0].Prefix) != 8 || tickets[0].Method != "NfcGetVmFiles" {
		t.Fatalf("tickets %+v", tickets)
	}
}

func TestNFCServiceESX(t *testing.T) {
	s := startSim(t, "--mode", "esx", "--vms", "1")
	c := s.admin(t)
	if len(s.Hosts) != 1 || s.Hosts[0].Moref != "ha-host" {
		t.Fatalf("hosts %+v", s.Hosts)
	}
	res, err := soapCall(c, "urn:vim25", "RetrieveInternalContent", arg("_this", mor("ServiceInstance", "ServiceInstance")))
	if err != nil || res.Returnval.NfcService != mor("NfcService", "ha-nfc-service") {
		t.Fatalf("RetrieveInternalContent: %+v %v", res, err)
	}
	vm := s.vm(t, 0)
	_, err = soapCall(c, "urn:vim25", "NfcGetVmFiles", arg("_this", mor("NfcService", "nfcService")), arg("vm", vm))
	faultOf[types.ManagedObjectNotFound](t, err)

	svc := arg("_this", mor("NfcService", "ha-nfc-service"))
	for _, ssl := range []bool{false, true} {
		res, err := soapCall(c, "urn:vim25", "NfcGetVmFiles", svc, arg("vm", vm))
		if err != nil {
			t.Fatal(err)
		}
		tk := res.Returnval.HostServiceTicket
		if tk.Host != "" || tk.Service != "nfc" || int(tk.Port) != s.Hosts[0].NFCPort {
			t.Fatalf("ticket %+v", tk)
		}
		// nfc.md §1: no host in the ticket — dial the host logged in to.
		nc, err := dialNFC(net.JoinHostPort(s.Host, strconv.Itoa(int(tk.Port))), clientOpts{ticket: tk.SessionId, service: "nfc", ssl: ssl, sha1: tk.SslThumbprint, sha2: true})
		if err != nil {
			t.Fatalf("ssl=%v: %v", ssl, err)
		}
		nc.close()
	}
}

func TestNFCServiceOldESXi(t *testing.T) {
	for _, tc := range []struct {
		esxi    string
		version string // "" = InvalidRequest
	}{{"7", "7"}, {"6.0", ""}} {
		s := startSim(t, "--mode", "esx", "--vms", "1", "--nfc-esxi", tc.esxi)
		c := s.admin(t)
		res, err := soapCall(c, "urn:vim25", "NfcGetServerNfcLibVersion", arg("_this", mor("NfcService", "ha-nfc-service")),
			arg("hostForAccess", mor("HostSystem", "ha-host")))
		if tc.version == "" {
			faultOf[types.InvalidRequest](t, err)
		} else if err != nil || strings.TrimSpace(res.Returnval.Value) != tc.version {
			t.Fatalf("esxi %s: %+v %v", tc.esxi, res, err)
		}
		// The banner of a pre-8 host does not offer SHA256 (nfc.md §2.1).
		raw, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Hosts[0].NFCPort)))
		if err != nil {
			t.Fatal(err)
		}
		banner, err := readLineRaw(raw)
		raw.Close()
		if err != nil || strings.Contains(banner, "SHA256") || !strings.HasPrefix(banner, "220 VMware Authentication Daemon") {
			t.Fatalf("banner %q %v", banner, err)
		}
		_ = s.stop()
	}
}

func TestNFCFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--nfc-reply-order", "sideways"}, {"--nfc-esxi", "9"}, {"--nfc-max-io", "100"}, {"--nfc-ticket-ttl", "0s"},
		{"--nfc-coalesced", "maybe"}, {"--nfc-max-outstanding", "0"}, {"--nfc-esx-ssl-endpoint", ""},
	} {
		if _, err := parseFlags(args); err == nil {
			t.Fatalf("%v accepted", args)
		}
	}
	o, err := parseFlags(nil)
	if err != nil {
		t.Fatal(err)
	}
	p := o.nfc
	if !p.errorText || p.unknownNoise || p.lenientFlags || p.emptyAcks || !p.closeReplies || p.manyFiles ||
		p.replyOrder != orderInOrder || p.fragmentOrder != orderInOrder || p.maxIO != 2<<20 || !p.privileges ||
		p.otherSecondCert || p.esxi.name != "8" || p.coalesced || p.esxSSLEndpoint != "ha-nfcssl" {
		t.Fatalf("defaults %+v", p)
	}
}
