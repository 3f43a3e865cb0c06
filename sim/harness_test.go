// Concept: the test harness — builds freevix-sim once, starts instances of it, and talks to them
// the way clients do: govmomi over the SDK endpoint, JSON over the admin endpoint.

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/session"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

var simBinary string

// TestMain tests the binary named by $FREEVIX_SIM_BIN (as CMake passes it), or builds one.
func TestMain(m *testing.M) {
	simBinary = os.Getenv("FREEVIX_SIM_BIN")
	if simBinary != "" {
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "freevix-sim-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	simBinary = filepath.Join(dir, "freevix-sim")
	build := exec.Command("go", "build", "-o", simBinary, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building freevix-sim:", err)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// sim is one running freevix-sim, described by its start-up JSON line.
type sim struct {
	startLine
	cmd *exec.Cmd
}

// startSim runs freevix-sim with args and stops it (SIGTERM) when the test ends.
func startSim(t *testing.T, args ...string) *sim {
	t.Helper()
	s, err := launch(args...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.stop() })
	return s
}

func launch(args ...string) (*sim, error) {
	cmd := exec.Command(simBinary, args...)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	lines := make(chan []byte, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadBytes('\n')
		lines <- line
	}()
	s := &sim{cmd: cmd}
	select {
	case line := <-lines:
		if err := json.Unmarshal(line, &s.startLine); err != nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			return nil, fmt.Errorf("start-up line %q: %v", line, err)
		}
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("no start-up line within 60s")
	}
	return s, nil
}

// stop sends SIGTERM and returns the exit error (nil for exit status 0).
func (s *sim) stop() error {
	if s.cmd.ProcessState != nil {
		return nil
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	return s.cmd.Wait()
}

// connect returns an unauthenticated client of the SDK endpoint.
func (s *sim) connect(t *testing.T) (*vim25.Client, error) {
	t.Helper()
	u, err := soap.ParseURL(s.SDK)
	if err != nil {
		t.Fatal(err)
	}
	return vim25.NewClient(context.Background(), soap.NewClient(u, true))
}

// login returns a client with a fresh session of user.
func (s *sim) login(t *testing.T, user, password string) (*vim25.Client, error) {
	t.Helper()
	c, err := s.connect(t)
	if err != nil {
		return nil, err
	}
	return c, session.NewManager(c).Login(context.Background(), url.UserPassword(user, password))
}

// admin logs in as the privileged user or fails the test.
func (s *sim) admin(t *testing.T) *vim25.Client {
	t.Helper()
	c, err := s.login(t, s.User, "freevix")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func sessionKey(t *testing.T, c *vim25.Client) string {
	t.Helper()
	us, err := session.NewManager(c).UserSession(context.Background())
	if err != nil || us == nil {
		t.Fatalf("UserSession: %v %v", us, err)
	}
	return us.Key
}

// call makes an admin API request; body (if not nil) is sent as JSON and the answer decoded into out.
func (s *sim) call(t *testing.T, method, path string, body, out interface{}) int {
	t.Helper()
	var in bytes.Buffer
	if body != nil {
		if err := json.NewEncoder(&in).Encode(body); err != nil {
			t.Fatal(err)
		}
	}
	req, err := http.NewRequest(method, s.Admin+path, &in)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if out != nil {
		if err := json.NewDecoder(res.Body).Decode(out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	return res.StatusCode
}

func (s *sim) disabled(t *testing.T) []disableRecord {
	t.Helper()
	var out []disableRecord
	s.call(t, http.MethodGet, "/disabled", nil, &out)
	return out
}

func (s *sim) vms(t *testing.T) []vmInfo {
	t.Helper()
	var out []vmInfo
	s.call(t, http.MethodGet, "/vms", nil, &out)
	return out
}

func (s *sim) vm(t *testing.T, i int) types.ManagedObjectReference {
	t.Helper()
	return types.ManagedObjectReference{Type: "VirtualMachine", Value: s.vms(t)[i].Moref}
}

func refs(vms ...types.ManagedObjectReference) []types.ManagedObjectReference { return vms }

func authz(c *vim25.Client) *object.AuthorizationManager {
	return object.NewAuthorizationManager(c)
}

func relocateRequest(reason string) []object.DisabledMethodRequest {
	return []object.DisabledMethodRequest{{Method: relocateMethod, Reason: reason}}
}

func disable(c *vim25.Client, source string, vms ...types.ManagedObjectReference) error {
	return authz(c).DisableMethods(context.Background(), vms, relocateRequest("backup"), source)
}

func enable(c *vim25.Client, source string, vms ...types.ManagedObjectReference) error {
	return authz(c).EnableMethods(context.Background(), vms, []string{relocateMethod}, source)
}

// scopedDisableRequest mirrors govmomi's object/authorization_manager_internal.go, sending the
// optional sessionScope that govmomi's helper never sets.
type scopedDisableRequest struct {
	This   types.ManagedObjectReference   `xml:"_this"`
	Entity []types.ManagedObjectReference `xml:"entity"`
	Method []object.DisabledMethodRequest `xml:"method"`
	Source string                         `xml:"sourceId"`
	Scope  bool                           `xml:"sessionScope"`
}

type scopedDisableBody struct {
	Req *scopedDisableRequest `xml:"urn:internalvim25 DisableMethods,omitempty"`
	Res interface{}           `xml:"urn:vim25 DisableMethodsResponse,omitempty"`
	Err *soap.Fault           `xml:"http://schemas.xmlsoap.org/soap/envelope/ Fault,omitempty"`
}

func (b *scopedDisableBody) Fault() *soap.Fault { return b.Err }

func disableScoped(c *vim25.Client, source string, vms ...types.ManagedObjectReference) error {
	req := scopedDisableBody{Req: &scopedDisableRequest{
		This: *c.ServiceContent.AuthorizationManager, Entity: vms,
		Method: relocateRequest("backup"), Source: source, Scope: true,
	}}
	var res scopedDisableBody
	return c.RoundTrip(context.Background(), &req, &res)
}

// faultOf returns the vim fault carried by err as a value of type T, failing the test otherwise.
func faultOf[T any](t *testing.T, err error) T {
	t.Helper()
	var zero T
	if err == nil {
		t.Fatalf("want a %T fault, got success", zero)
	}
	var f interface{}
	switch {
	case soap.IsSoapFault(err):
		f = soap.ToSoapFault(err).VimFault()
	case soap.IsVimFault(err):
		f = soap.ToVimFault(err)
	}
	switch v := f.(type) {
	case T:
		return v
	case *T:
		return *v
	}
	t.Fatalf("want a %T fault, got %v (%T)", zero, err, f)
	return zero
}

// waitFor polls cond every 50ms for up to d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}
