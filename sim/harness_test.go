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
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/session"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
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

// vmByMoref returns the /vms entry of a VM, failing the test when it is missing.
func (s *sim) vmByMoref(t *testing.T, moref string) vmInfo {
	t.Helper()
	for _, v := range s.vms(t) {
		if v.Moref == moref {
			return v
		}
	}
	t.Fatalf("no VM %s", moref)
	return vmInfo{}
}

// diskHash is GET /disk/sha256 of a VM's disk (snapshot "" for the current state).
func (s *sim) diskHash(t *testing.T, vm string, key int32, snapshot string) string {
	t.Helper()
	var out struct {
		SHA256 string `json:"sha256"`
		Error  string `json:"error"`
	}
	q := fmt.Sprintf("/disk/sha256?vm=%s&disk=%d&snapshot=%s", vm, key, snapshot)
	if code := s.call(t, http.MethodGet, q, nil, &out); code != http.StatusOK {
		t.Fatalf("%s: %d %s", q, code, out.Error)
	}
	return out.SHA256
}

// allocated is GET /disk/allocated of a VM's disk.
func (s *sim) allocated(t *testing.T, vm string, key int32, snapshot string) []extentRun {
	t.Helper()
	var out struct {
		Allocated []extentRun `json:"allocated"`
		Error     string      `json:"error"`
	}
	q := fmt.Sprintf("/disk/allocated?vm=%s&disk=%d&snapshot=%s", vm, key, snapshot)
	if code := s.call(t, http.MethodGet, q, nil, &out); code != http.StatusOK {
		t.Fatalf("%s: %d %s", q, code, out.Error)
	}
	return out.Allocated
}

// guestWrite is POST /guest/write of the stream of seed (seed 0 with zero: zeros).
func (s *sim) guestWrite(t *testing.T, vm string, key int32, off, n int64, seed uint64) {
	t.Helper()
	body := map[string]interface{}{"vm": vm, "disk": key, "offset": off, "length": n, "seed": seed}
	var out map[string]string
	if code := s.call(t, http.MethodPost, "/guest/write", body, &out); code != http.StatusOK {
		t.Fatalf("guest write %v: %d %v", body, code, out)
	}
}

// localPath maps "[ds] dir/f" to the file in the simulator's state directory.
func (s *sim) localPath(t *testing.T, dsPath string) string {
	t.Helper()
	var p object.DatastorePath
	if !p.FromString(dsPath) {
		t.Fatalf("bad datastore path %q", dsPath)
	}
	matches, _ := filepath.Glob(filepath.Join(s.StateDir, "govcsim-*-"+p.Datastore+"-*"))
	if len(matches) != 1 {
		t.Fatalf("datastore %s: %v", p.Datastore, matches)
	}
	return filepath.Join(matches[0], p.Path)
}

// virtualDisks reads config.hardware.device of a VM or snapshot and returns its disks.
func virtualDisks(t *testing.T, c *vim25.Client, ref types.ManagedObjectReference) []*types.VirtualDisk {
	t.Helper()
	var devices []types.BaseVirtualDevice
	var err error
	if ref.Type == "VirtualMachine" {
		var m mo.VirtualMachine
		err = property.DefaultCollector(c).RetrieveOne(context.Background(), ref, []string{"config.hardware.device"}, &m)
		if m.Config != nil {
			devices = m.Config.Hardware.Device
		}
	} else {
		var m mo.VirtualMachineSnapshot
		err = property.DefaultCollector(c).RetrieveOne(context.Background(), ref, []string{"config.hardware.device"}, &m)
		devices = m.Config.Hardware.Device
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []*types.VirtualDisk
	for _, d := range devices {
		if disk, ok := d.(*types.VirtualDisk); ok {
			out = append(out, disk)
		}
	}
	return out
}

func flatBacking(t *testing.T, d *types.VirtualDisk) *types.VirtualDiskFlatVer2BackingInfo {
	t.Helper()
	b, ok := d.Backing.(*types.VirtualDiskFlatVer2BackingInfo)
	if !ok {
		t.Fatalf("disk %d backing %T", d.Key, d.Backing)
	}
	return b
}

// snapshot creates a snapshot of vm and returns it.
func snapshot(t *testing.T, c *vim25.Client, vm types.ManagedObjectReference, name string) types.ManagedObjectReference {
	t.Helper()
	ctx := context.Background()
	task, err := object.NewVirtualMachine(c, vm).CreateSnapshot(ctx, name, "", false, false)
	if err != nil {
		t.Fatal(err)
	}
	info, err := task.WaitForResult(ctx, nil)
	if err != nil {
		t.Fatalf("snapshot %s: %v", name, err)
	}
	return info.Result.(types.ManagedObjectReference)
}

// done returns a function that waits for a task and fails the test on error:
// done(t)(vm.PowerOn(ctx)).
func done(t *testing.T) func(*object.Task, error) {
	return func(task *object.Task, err error) {
		t.Helper()
		if err == nil {
			err = task.Wait(context.Background())
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// waitRef waits for the task ref and returns its error.
func waitRef(c *vim25.Client, ref types.ManagedObjectReference) error {
	return object.NewTask(c, ref).Wait(context.Background())
}

// removeSnapshot removes a snapshot (and its children) and fails the test on error.
func removeSnapshot(t *testing.T, c *vim25.Client, snap types.ManagedObjectReference, children bool) {
	t.Helper()
	res, err := methods.RemoveSnapshot_Task(context.Background(), c, &types.RemoveSnapshot_Task{This: snap, RemoveChildren: children})
	if err == nil {
		err = waitRef(c, res.Returnval)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// revertSnapshot reverts to a snapshot and fails the test on error.
func revertSnapshot(t *testing.T, c *vim25.Client, snap types.ManagedObjectReference) {
	t.Helper()
	res, err := methods.RevertToSnapshot_Task(context.Background(), c, &types.RevertToSnapshot_Task{This: snap})
	if err == nil {
		err = waitRef(c, res.Returnval)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// power powers vm on or off.
func power(t *testing.T, c *vim25.Client, vm types.ManagedObjectReference, on bool) {
	t.Helper()
	o := object.NewVirtualMachine(c, vm)
	if on {
		done(t)(o.PowerOn(context.Background()))
	} else {
		done(t)(o.PowerOff(context.Background()))
	}
}

// sessionCookie is the vmware_soap_session cookie of a logged-in client.
func sessionCookie(t *testing.T, c *vim25.Client) *http.Cookie {
	t.Helper()
	u, _ := url.Parse(c.URL().String())
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == soap.SessionCookieName {
			return &http.Cookie{Name: ck.Name, Value: ck.Value}
		}
	}
	t.Fatal("no session cookie")
	return nil
}
