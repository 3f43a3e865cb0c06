// Concept: tests of the admin endpoint — inventory listing, traffic counters and each fault
// injection — and of the VM look-ups a vmxSpec relies on.

package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

func TestAdminBasics(t *testing.T) {
	s := startSim(t)
	var health map[string]bool
	if code := s.call(t, http.MethodGet, "/health", nil, &health); code != http.StatusOK || !health["ok"] {
		t.Fatalf("health: %d %v", code, health)
	}
	var e map[string]string
	if code := s.call(t, http.MethodGet, "/nope", nil, &e); code != http.StatusNotFound || e["error"] == "" {
		t.Fatalf("unknown path: %d %v", code, e)
	}
	if code := s.call(t, http.MethodPost, "/fault", "{not json", &e); code != http.StatusBadRequest || e["error"] == "" {
		t.Fatalf("bad JSON: %d %v", code, e)
	}
	if code := s.call(t, http.MethodPost, "/fault", map[string]string{"kind": "bogus"}, &e); code != http.StatusBadRequest {
		t.Fatalf("bad kind: %d %v", code, e)
	}
	if code := s.call(t, http.MethodPost, "/health", nil, &e); code != http.StatusMethodNotAllowed {
		t.Fatalf("wrong method: %d", code)
	}
}

func TestVMsAndSearchIndex(t *testing.T) {
	s := startSim(t)
	vms := s.vms(t)
	if len(vms) != 4 {
		t.Fatalf("%d VMs, want 4", len(vms))
	}
	c := s.admin(t)
	ctx := context.Background()
	si := object.NewSearchIndex(c)
	for _, v := range vms {
		if v.Datacenter != "DC0" || v.Datastore != "LocalDS_0" || v.Dir != v.Name || v.File != v.Name+".vmx" ||
			v.Vmx != "[LocalDS_0] "+v.Name+"/"+v.Name+".vmx" {
			t.Fatalf("vm %+v", v)
		}
		dc, err := si.FindByInventoryPath(ctx, v.Datacenter)
		if err != nil || dc == nil {
			t.Fatalf("datacenter %s: %v", v.Datacenter, err)
		}
		found, err := si.FindByDatastorePath(ctx, object.NewDatacenter(c, dc.Reference()), v.Vmx)
		if err != nil || found == nil || found.Reference().Value != v.Moref {
			t.Fatalf("FindByDatastorePath(%s) = %v, %v", v.Vmx, found, err)
		}
		var m mo.VirtualMachine
		ref := types.ManagedObjectReference{Type: "VirtualMachine", Value: v.Moref}
		if err := property.DefaultCollector(c).RetrieveOne(ctx, ref, []string{"config.uuid"}, &m); err != nil {
			t.Fatal(err)
		}
		found, err = si.FindByUuid(ctx, object.NewDatacenter(c, dc.Reference()), m.Config.Uuid, true, nil)
		if err != nil || found == nil || found.Reference().Value != v.Moref {
			t.Fatalf("FindByUuid(%s) = %v, %v", m.Config.Uuid, found, err)
		}
	}
}

func TestOddVMCount(t *testing.T) {
	s := startSim(t, "--vms", "5")
	if n := len(s.vms(t)); n != 5 {
		t.Fatalf("%d VMs, want 5", n)
	}
}

func TestStats(t *testing.T) {
	s := startSim(t)
	c := s.admin(t)
	s.call(t, http.MethodPost, "/stats/reset", nil, nil)
	for i := 0; i < 5; i++ {
		if err := enable(c, "nobody", s.vm(t, 0)); err != nil {
			t.Fatal(err)
		}
	}
	var st statsView
	s.call(t, http.MethodGet, "/stats", nil, &st)
	if st.Requests != 5 || st.Methods["EnableMethods"] != 5 || len(st.Methods) != 1 {
		t.Fatalf("5 calls on one session: %+v", st)
	}
	if st.Connections > 1 || st.TLSHandshakes > 1 {
		t.Fatalf("connections not reused: %+v", st)
	}

	s.call(t, http.MethodPost, "/stats/reset", nil, nil)
	if _, err := s.login(t, "admin", "freevix"); err != nil { // a new client: new connection
		t.Fatal(err)
	}
	s.call(t, http.MethodGet, "/stats", nil, &st)
	if st.Connections != 1 || st.TLSHandshakes != 1 || st.Methods["Login"] != 1 || st.Methods["RetrieveServiceContent"] != 1 {
		t.Fatalf("after a login: %+v", st)
	}
}

// readRate is the answer of GET /disk/readrate and GET /nfc/readrate.
type readRate struct {
	File           string  `json:"file"`
	Transport      string  `json:"transport"` // /nfc/readrate
	Bytes          int64   `json:"bytes"`
	Chunk          int64   `json:"chunk"`
	Seconds        float64 `json:"seconds"`
	BytesPerSecond float64 `json:"bytes_per_second"`
}

// The measuring aids of benchmarks and tests: the reader's own rate (GET /disk/readrate), the host
// listeners' connection and handshake counters, and closing idle connections.
func TestDiskReadRateHostCountersCloseIdle(t *testing.T) {
	s := startSim(t)
	c := s.admin(t)
	vm := s.vm(t, 0)
	var rate readRate
	path := "/disk/readrate?vm=" + vm.Value + "&disk=2000&chunk=65536"
	if code := s.call(t, http.MethodGet, path, nil, &rate); code != http.StatusOK || rate.Bytes != 64<<20 ||
		rate.Chunk != 65536 || rate.Seconds <= 0 || rate.BytesPerSecond <= 0 ||
		rate.File != s.vmByMoref(t, vm.Value).Disks[0].FileName {
		t.Fatalf("readrate: %d %+v", code, rate)
	}
	for _, bad := range []string{"&chunk=100", "&chunk=0", "&chunk=134217728", "&chunk=x"} {
		if code := s.call(t, http.MethodGet, "/disk/readrate?vm="+vm.Value+"&disk=2000"+bad, nil, nil); code != http.StatusBadRequest {
			t.Fatalf("readrate %s: %d", bad, code)
		}
	}
	if code := s.call(t, http.MethodGet, "/disk/readrate?vm=vm-999&disk=2000", nil, nil); code != http.StatusNotFound {
		t.Fatalf("readrate of an unknown VM: %d", code)
	}

	power(t, c, vm, false)
	v := s.vmByMoref(t, vm.Value)
	name := vmHost(t, c, vm)
	var h hostInfo
	for _, x := range s.Hosts {
		if x.Name == name {
			h = x
		}
	}
	flat := strings.TrimSuffix(v.Disks[0].FileName, ".vmdk") + "-flat.vmdk"
	dial := folderURL(fmt.Sprintf("https://127.0.0.1:%d", h.HTTPSPort), flat, "dsName=LocalDS_0")
	hc := folderClient(h.ThumbprintSHA1)
	s.call(t, http.MethodPost, "/stats/reset", nil, nil)
	for i := 0; i < 2; i++ { // two requests on one keep-alive connection
		tk, err := acquireTicket(t, c, dial, "httpGet")
		if err != nil {
			t.Fatal(err)
		}
		if res, _ := fetch(t, hc, "GET", dial, map[string]string{"Range": "bytes=0-9"}, ticketCookieOf(tk)); res.StatusCode != 206 {
			t.Fatalf("GET on the host: %d", res.StatusCode)
		}
	}
	var st statsView
	s.call(t, http.MethodGet, "/stats", nil, &st)
	if st.HostConnections != 1 || st.HostTLSHandshakes != 1 || st.Methods["AcquireGenericServiceTicket"] != 2 {
		t.Fatalf("host counters after two requests: %+v", st)
	}
	// An idle timeout's close: the next request needs a new connection.
	tk, err := acquireTicket(t, c, dial, "httpGet")
	if err != nil {
		t.Fatal(err)
	}
	if code := s.call(t, http.MethodPost, "/connections/close-idle", nil, nil); code != http.StatusOK {
		t.Fatalf("close-idle: %d", code)
	}
	if res, _ := fetch(t, hc, "GET", dial, map[string]string{"Range": "bytes=0-9"}, ticketCookieOf(tk)); res.StatusCode != 206 {
		t.Fatalf("GET after close-idle: %d", res.StatusCode)
	}
	s.call(t, http.MethodGet, "/stats", nil, &st)
	if st.HostConnections != 2 || st.HostTLSHandshakes != 2 {
		t.Fatalf("host counters after close-idle: %+v", st)
	}
}

func arm(t *testing.T, s *sim, fault map[string]interface{}) {
	t.Helper()
	if code := s.call(t, http.MethodPost, "/fault", fault, nil); code != http.StatusOK {
		t.Fatalf("arming %v: %d", fault, code)
	}
}

func TestFaultInjection(t *testing.T) {
	s := startSim(t)
	c := s.admin(t)
	vm := s.vm(t, 0)
	ctx := context.Background()
	call := func() error {
		_, err := methods.GetCurrentTime(ctx, c)
		return err
	}

	arm(t, s, map[string]interface{}{"kind": "drop", "count": 1})
	if err := call(); err == nil {
		t.Fatal("dropped call succeeded")
	}
	if err := call(); err != nil {
		t.Fatalf("call after the drop: %v", err)
	}

	arm(t, s, map[string]interface{}{"kind": "http503", "count": 2})
	for i := 0; i < 2; i++ {
		if err := call(); err == nil || !strings.Contains(err.Error(), "503") {
			t.Fatalf("503 #%d: %v", i, err)
		}
	}
	if err := call(); err != nil {
		t.Fatalf("call after 503s: %v", err)
	}

	arm(t, s, map[string]interface{}{"kind": "malformed", "count": 1})
	if err := call(); err == nil {
		t.Fatal("malformed answer parsed")
	}
	if err := call(); err != nil {
		t.Fatalf("call after malformed: %v", err)
	}

	// The delays are long and the bounds loose so that a loaded machine
	// cannot turn an undelayed call into a "delayed" one: these check
	// behaviour, not speed.
	arm(t, s, map[string]interface{}{"kind": "delay", "method": "EnableMethods", "ms": 2500})
	began := time.Now()
	if err := enable(c, "x", vm); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(began); took < 2500*time.Millisecond {
		t.Fatalf("delayed call took %v", took)
	}
	began = time.Now()
	if err := call(); err != nil || time.Since(began) > 2000*time.Millisecond {
		t.Fatalf("other method delayed or failed: %v %v", time.Since(began), err)
	}
	arm(t, s, map[string]interface{}{"kind": "delay", "method": "EnableMethods", "ms": 0})
	began = time.Now()
	if err := enable(c, "x", vm); err != nil || time.Since(began) > 2000*time.Millisecond {
		t.Fatalf("delay not cleared: %v %v", time.Since(began), err)
	}

	arm(t, s, map[string]interface{}{"kind": "drop", "count": 5})
	arm(t, s, map[string]interface{}{"kind": "delay", "method": "GetCurrentTime", "ms": 5000})
	if code := s.call(t, http.MethodPost, "/fault/clear", nil, nil); code != http.StatusOK {
		t.Fatalf("clear: %d", code)
	}
	began = time.Now()
	if err := call(); err != nil || time.Since(began) > 2500*time.Millisecond {
		t.Fatalf("after clear: %v %v", time.Since(began), err)
	}
}
