// Concept: tests of the program itself — the start-up JSON line, the served certificate, clean
// exit on SIGTERM, the loopback rule, esx mode (DESIGN.md point 6) and a 5000-VM inventory.

package main

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25/types"
)

func TestStartLineCertificateAndCleanExit(t *testing.T) {
	s, err := launch()
	if err != nil {
		t.Fatal(err)
	}
	defer s.stop()
	if !s.TLS || s.Host != "127.0.0.1" || s.Port == 0 || s.Pid != s.cmd.Process.Pid || s.Mode != "vcenter" ||
		s.User != "admin" || s.ROUser != "reader" || !strings.HasPrefix(s.SDK, "https://127.0.0.1:") ||
		!strings.HasPrefix(s.Admin, "http://127.0.0.1:") {
		t.Fatalf("start-up line %+v", s.startLine)
	}

	pem, err := os.ReadFile(s.Cert)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatal("cert file holds no certificate")
	}
	// The certificate verifies as its own CA for 127.0.0.1, and its thumbprints match the line.
	conn, err := tls.Dial("tcp", s.SDK[len("https://"):len(s.SDK)-len("/sdk")], &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	der := conn.ConnectionState().PeerCertificates[0].Raw
	conn.Close()
	s1, s256 := sha1.Sum(der), sha256.Sum256(der)
	if thumbprint(s1[:]) != s.ThumbprintSHA1 || thumbprint(s256[:]) != s.ThumbprintSHA256 {
		t.Fatalf("thumbprints %s / %s do not match the served certificate", s.ThumbprintSHA1, s.ThumbprintSHA256)
	}
	if _, err := os.Stat(s.StateDir); err != nil {
		t.Fatal(err)
	}

	if err := s.stop(); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
	if _, err := os.Stat(s.StateDir); !os.IsNotExist(err) {
		t.Fatalf("state dir %s left behind (%v)", s.StateDir, err)
	}
}

func TestPlainHTTP(t *testing.T) {
	s := startSim(t, "--no-tls")
	if s.TLS || s.Cert != "" || !strings.HasPrefix(s.SDK, "http://") {
		t.Fatalf("start-up line %+v", s.startLine)
	}
	s.admin(t)
}

func TestRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", "8.8.8.8:0", "[::1]:0"} {
		out, err := exec.Command(simBinary, "--listen", addr).CombinedOutput()
		if err == nil || !strings.Contains(string(out), "127.0.0.0/8") {
			t.Fatalf("--listen %s: %v %s", addr, err, out)
		}
	}
}

func TestESXMode(t *testing.T) {
	s := startSim(t, "--mode", "esx", "--vms", "3")
	c := s.admin(t)
	if c.ServiceContent.About.ApiType != "HostAgent" {
		t.Fatalf("apiType %s", c.ServiceContent.About.ApiType)
	}
	vms := s.vms(t)
	if len(vms) != 3 {
		t.Fatalf("%d VMs", len(vms))
	}
	vm := types.ManagedObjectReference{Type: "VirtualMachine", Value: vms[0].Moref}
	for _, err := range []error{disable(c, "backup", vm), enable(c, "backup", vm)} {
		if f := faultOf[types.MethodNotFound](t, err); f.Receiver != *c.ServiceContent.AuthorizationManager {
			t.Fatalf("fault %+v", f)
		}
	}
	if d := s.disabled(t); len(d) != 0 {
		t.Fatalf("table %+v", d)
	}
	task, err := object.NewVirtualMachine(c, vm).Relocate(context.Background(), types.VirtualMachineRelocateSpec{}, "")
	if err != nil {
		t.Fatal(err)
	}
	if d := s.disabled(t); len(d) != 0 {
		t.Fatalf("svMotion hold on ESX: %+v", d)
	}
	if err := task.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestFiveThousandVMs(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	// How long start-up takes is a figure for bench/, not a pass/fail
	// criterion (it varies with the machine's load); it is logged only.
	began := time.Now()
	s := startSim(t, "--vms", "5000")
	t.Logf("5000 VMs ready in %v", time.Since(began))
	vms := s.vms(t)
	if len(vms) != 5000 {
		t.Fatalf("%d VMs", len(vms))
	}
	c := s.admin(t)
	last := types.ManagedObjectReference{Type: "VirtualMachine", Value: vms[len(vms)-1].Moref}
	if err := disable(c, "backup", last); err != nil {
		t.Fatal(err)
	}
	var st statsView
	if code := s.call(t, http.MethodGet, "/stats", nil, &st); code != http.StatusOK || st.Methods["DisableMethods"] != 1 {
		t.Fatalf("stats %d %+v", code, st)
	}
}
