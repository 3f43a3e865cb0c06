// Concept: the freevix-sim program — flags, start-up (inventory, certificate, listeners, wiring),
// the one JSON line on stdout, and a clean shutdown on SIGTERM/SIGINT or when the parent dies.

package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vmware/govmomi/simulator"
)

var (
	terse   = log.New(os.Stderr, "freevix-sim: ", 0)
	verbose = log.New(io.Discard, "freevix-sim: ", log.Lmicroseconds)
)

type options struct {
	mode, listen, adminListen string
	noTLS                     bool
	users                     users
	vms                       int
	relocate                  time.Duration
	idle                      time.Duration
	stateDir                  string
	parentPid                 int
	verbose, trace            bool
	pol                       policy
	nfc                       nfcPolicy
	diskSize                  int64
	disksPerVM                int
}

// startLine is the JSON line printed on stdout once the simulator is ready.
type startLine struct {
	SDK              string     `json:"sdk"`
	Host             string     `json:"host"`
	Port             int        `json:"port"`
	TLS              bool       `json:"tls"`
	ThumbprintSHA1   string     `json:"thumbprint_sha1"`
	ThumbprintSHA256 string     `json:"thumbprint_sha256"`
	Cert             string     `json:"cert"`
	Admin            string     `json:"admin"`
	Pid              int        `json:"pid"`
	Mode             string     `json:"mode"`
	User             string     `json:"user"`
	ROUser           string     `json:"ro_user"`
	StateDir         string     `json:"state_dir"`
	Hosts            []hostInfo `json:"hosts"`
}

func parseFlags(args []string) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("freevix-sim", flag.ContinueOnError)
	fs.StringVar(&o.mode, "mode", "vcenter", "vcenter (apiType VirtualCenter) or esx (apiType HostAgent)")
	fs.StringVar(&o.listen, "listen", "127.0.0.1:0", "SDK endpoint address (127.0.0.0/8 only)")
	fs.StringVar(&o.adminListen, "admin-listen", "127.0.0.1:0", "admin endpoint address (127.0.0.0/8 only)")
	fs.BoolVar(&o.noTLS, "no-tls", false, "serve the SDK over plain http")
	fs.StringVar(&o.users.admin, "user", "admin", "privileged user")
	fs.StringVar(&o.users.adminPassword, "password", "freevix", "privileged user's password")
	fs.StringVar(&o.users.reader, "ro-user", "reader", "read-only user (lacks Global.DisableMethods/EnableMethods)")
	fs.StringVar(&o.users.readerPassword, "ro-password", "freevix", "read-only user's password")
	fs.IntVar(&o.vms, "vms", 4, "total number of VMs")
	seconds := fs.Float64("relocate-seconds", 2, "how long every RelocateVM_Task (Storage vMotion) takes")
	fs.DurationVar(&o.idle, "session-idle-timeout", 0, "expire sessions idle for longer than this (0: never)")
	fs.StringVar(&o.stateDir, "state-dir", "", "directory for vcsim's datastores and the certificate (default: a private temp dir, removed on exit)")
	fs.IntVar(&o.parentPid, "parent-pid", 0, "exit when this process is gone")
	fs.BoolVar(&o.verbose, "verbose", false, "log more, including vcsim's own log")
	fs.BoolVar(&o.trace, "trace", false, "dump SOAP traffic reaching vcsim to stderr")
	sameSource := fs.String("same-source-disable", "ok", "a source re-disabling what it holds: ok (no-op) or fault (MethodAlreadyDisabledFault)")
	sessionScope := fs.String("session-scope", "session", "sessionScope=true disables: session (end with the session) or ignore (persist)")
	svMotionHold := fs.String("svmotion-hold", "on", "a running relocation holds RelocateVM_Task under "+svMotionSource+": on or off")
	nfcFlags := o.nfc.register(fs)
	diskSize := fs.String("disk-size", "64MiB", "capacity of every VM disk (bytes, or with KiB, MiB, GiB, TiB; a multiple of 1 KiB)")
	fs.IntVar(&o.disksPerVM, "disks-per-vm", 1, "disks of every VM (0-15), keys 2000, 2001, ...")
	deltaFormat := fs.String("delta-format", "sesparse", "delta disks of snapshots: sesparse (VMFS6), vmfssparse (VMFS5 COWD) or sparse (hosted)")
	runningBase := fs.String("running-base-read", "refuse", "/folder reads of a running VM's read-only parent disks: allow or refuse")
	cbtBlock := fs.String("cbt-block", "64KiB", "Changed Block Tracking granularity (a power of two, 512 bytes to 1 MiB)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}

	if err := nfcFlags(); err != nil {
		return nil, err
	}
	var err error
	if o.pol.sameSourceFault, err = parseChoice("same-source-disable", *sameSource, "fault", "ok"); err != nil {
		return nil, err
	}
	if o.pol.sessionScope, err = parseChoice("session-scope", *sessionScope, "session", "ignore"); err != nil {
		return nil, err
	}
	if o.pol.svMotionHold, err = parseChoice("svmotion-hold", *svMotionHold, "on", "off"); err != nil {
		return nil, err
	}
	if o.pol.runningBaseRead, err = parseChoice("running-base-read", *runningBase, "allow", "refuse"); err != nil {
		return nil, err
	}
	formats := map[string]string{"sesparse": formatSESparse, "vmfssparse": formatVmfsSparse, "sparse": formatHosted}
	if o.pol.deltaFormat = formats[*deltaFormat]; o.pol.deltaFormat == "" {
		return nil, fmt.Errorf("--delta-format: want sesparse, vmfssparse or sparse, got %q", *deltaFormat)
	}
	if o.diskSize, err = parseSize(*diskSize); err != nil || o.diskSize <= 0 || o.diskSize%1024 != 0 {
		return nil, fmt.Errorf("--disk-size: want a positive multiple of 1 KiB, got %q", *diskSize)
	}
	if o.pol.cbtBlock, err = parseSize(*cbtBlock); err != nil || o.pol.cbtBlock < 512 || o.pol.cbtBlock > 1<<20 ||
		o.pol.cbtBlock&(o.pol.cbtBlock-1) != 0 {
		return nil, fmt.Errorf("--cbt-block: want a power of two from 512 bytes to 1 MiB, got %q", *cbtBlock)
	}
	if o.pol.deltaFormat == formatVmfsSparse && o.diskSize > cowdMaxSectors*512 {
		return nil, errors.New("--delta-format vmfssparse: disks of 2 TB and more use SEsparse")
	}
	switch {
	case o.mode != "vcenter" && o.mode != "esx":
		return nil, fmt.Errorf("--mode: want vcenter or esx, got %q", o.mode)
	case o.vms < 0:
		return nil, errors.New("--vms must not be negative")
	case o.disksPerVM < 0 || o.disksPerVM > maxDisksPerVM:
		return nil, fmt.Errorf("--disks-per-vm: want 0 to %d", maxDisksPerVM)
	case *seconds < 0 || o.idle < 0:
		return nil, errors.New("--relocate-seconds and --session-idle-timeout must not be negative")
	case o.users.admin == "" || o.users.reader == "" || o.users.admin == o.users.reader:
		return nil, errors.New("--user and --ro-user must be set and differ")
	case o.users.adminPassword == "" || o.users.readerPassword == "":
		return nil, errors.New("passwords must not be empty")
	}
	o.relocate = time.Duration(*seconds * float64(time.Second))
	if o.mode == "esx" {
		o.pol.svMotionHold = false // no vCenter, no svMotion hold
	}
	return o, nil
}

func main() {
	o, err := parseFlags(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		terse.Print(err)
		os.Exit(2)
	}
	if err := run(o); err != nil {
		terse.Print(err)
		os.Exit(1)
	}
}

func run(o *options) error {
	log.SetOutput(io.Discard) // vcsim's own log
	if o.verbose {
		log.SetOutput(os.Stderr)
		verbose.SetOutput(os.Stderr)
	}
	simulator.Trace = o.trace

	// Catch signals from the start, so even an early SIGTERM leads to a clean exit.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)

	// Listen first: a bad address fails before any work is done.
	sdkLn, err := listenLoopback(o.listen)
	if err != nil {
		return err
	}
	adminLn, err := listenLoopback(o.adminListen)
	if err != nil {
		return err
	}

	dir, cleanupDir, err := stateDir(o.stateDir)
	if err != nil {
		return err
	}
	defer cleanupDir()
	// vcsim puts each datastore in a fresh directory under $TMPDIR.
	if err := os.Setenv("TMPDIR", dir); err != nil {
		return err
	}

	var cert *certificate
	if !o.noTLS {
		if cert, err = newCertificate(filepath.Join(dir, "cert.pem")); err != nil {
			return err
		}
		defer os.Remove(cert.file)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	began := time.Now()
	inv, err := buildInventory(ctx, o.mode, o.vms)
	if err != nil {
		return err
	}
	defer inv.close()
	next := vcsimHandler(inv, sdkLn.Addr().String())

	verbose.Printf("inventory built in %v", time.Since(began))
	store := newDiskStore(&o.pol, o.diskSize, o.disksPerVM)
	store.fillHook = func(vm string, d time.Duration) { verbose.Printf("disks of %s filled in %v", vm, d) }
	disksBegan := time.Now()
	if err := store.adoptAll(); err != nil {
		return err
	}
	verbose.Printf("disks created in %v", time.Since(disksBegan))
	servers, err := startHosts(dir, sdkLn.Addr().(*net.TCPAddr).Port, cert, o.mode == "esx")
	if err != nil {
		return err
	}
	defer servers.close()

	disables := newDisableTable(&o.pol)
	sessions := newSessionTable(o.idle, func(key, _ string) {
		inv.terminateSession(ctx, key)
		disables.dropSession(key)
	})
	go sessions.reap(ctx)
	mv := &mover{ctx: ctx, client: inv.client, disables: disables, pol: &o.pol}
	faults := newFaultInjector()
	st := newStats()
	tickets := newTicketTable()
	folder := newFolderServer(store, sessions, o.users, tickets, servers, st, faults, next)
	servers.serve(folder.handler, listenerCounts{st.hostConnection, st.hostHandshake})
	hostCert := map[string]*certificate{}
	for _, h := range servers.hosts {
		if h.cert != nil {
			hostCert[h.Moref] = h.cert
		}
	}
	certs := newHostCerts(dir, hostCert)
	defer certs.remove()
	nfc, err := startNFC(nfcConfig{pol: &o.nfc, esx: o.mode == "esx", vms: vcsimVMs{}, disks: storeDisks{store},
		users: o.users, certs: certs, stats: st})
	if err != nil {
		return err
	}
	defer nfc.close()

	front := &frontend{
		next: next, esx: o.mode == "esx", content: inv.client.ServiceContent, users: o.users,
		sessions: sessions, disables: disables, mover: mv, faults: faults, stats: st, relocate: o.relocate,
		nfc: nfc, store: store, snap: &snapshotter{st: store, ctx: ctx, client: inv.client}, folder: folder,
		tickets: tickets, servers: servers,
	}
	adm := &admin{disables: disables, sessions: sessions, mover: mv, faults: faults, stats: st, inv: inv,
		relocate: o.relocate, nfc: nfc, store: store}

	sdkSrv := serveSDK(sdkLn, front, cert, listenerCounts{st.connection, st.handshake})
	defer sdkSrv.Close()
	adm.closeIdle = func() {
		for _, srv := range append([]*http.Server{sdkSrv}, servers.httpServers()...) {
			srv.SetKeepAlivesEnabled(false) // closes the idle connections
			srv.SetKeepAlivesEnabled(true)
		}
	}
	adminSrv := serveAdmin(adminLn, adm.handler())
	defer adminSrv.Close()

	addr := sdkLn.Addr().(*net.TCPAddr)
	line := startLine{
		Host: addr.IP.String(), Port: addr.Port, Admin: "http://" + adminLn.Addr().String(),
		Pid: os.Getpid(), Mode: o.mode, User: o.users.admin, ROUser: o.users.reader, StateDir: dir,
		SDK: "http://" + addr.String() + "/sdk", Hosts: servers.infos(),
	}
	for i := range line.Hosts {
		line.Hosts[i].NFCPort = nfc.port(line.Hosts[i].Moref)
	}
	if cert != nil {
		line.SDK = "https://" + addr.String() + "/sdk"
		line.TLS, line.ThumbprintSHA1, line.ThumbprintSHA256, line.Cert = true, cert.sha1, cert.sha256, cert.file
	}
	out, err := json.Marshal(line)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(os.Stdout, "%s\n", out); err != nil {
		return err
	}
	terse.Printf("%s mode, %d VMs, SDK %s, admin %s (ready in %.3fs)", o.mode, o.vms, line.SDK, line.Admin, time.Since(began).Seconds())

	reason := waitForEnd(sig, o.parentPid)
	terse.Printf("shutting down: %s", reason)
	return nil
}

// stateDir returns the directory for the simulator's files and how to clean it up: a private temp
// dir is removed entirely, a given one is kept.
func stateDir(given string) (string, func(), error) {
	if given != "" {
		if err := os.MkdirAll(given, 0o755); err != nil {
			return "", nil, err
		}
		abs, err := filepath.Abs(given)
		return abs, func() {}, err
	}
	dir, err := os.MkdirTemp("", "freevix-sim-")
	if err != nil {
		return "", nil, err
	}
	return dir, func() { _ = os.RemoveAll(dir) }, nil
}

// vcsimHandler starts vcsim's HTTP server to have it register its handlers, takes its handler
// over (the front door serves it on the SDK listener) and points vcsim's self-references at host.
func vcsimHandler(inv *inventory, host string) http.Handler {
	svc := inv.model.Service
	svc.Listen = &url.URL{Host: "127.0.0.1:0"}
	srv := svc.NewServer()
	old := srv.URL.Host
	srv.Close()

	simulator.Map.SessionManager().ServiceHostName = host
	om := simulator.Map.OptionManager()
	simulator.Map.WithLock(om, func() {
		for _, s := range om.Setting {
			if v := s.GetOptionValue(); v != nil {
				if str, ok := v.Value.(string); ok {
					v.Value = strings.Replace(str, old, host, 1)
				}
			}
		}
	})
	return svc.ServeMux
}

// waitForEnd blocks until a signal arrives on sig or the parent process (if given) is gone.
func waitForEnd(sig <-chan os.Signal, parentPid int) string {
	var tick <-chan time.Time
	if parentPid > 0 {
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case s := <-sig:
			return s.String()
		case <-tick:
			if err := syscall.Kill(parentPid, 0); errors.Is(err, syscall.ESRCH) {
				return fmt.Sprintf("parent %d is gone", parentPid)
			}
		}
	}
}

// parseSize reads a byte count: digits with an optional binary suffix K/KiB, M/MiB, G/GiB, T/TiB.
func parseSize(s string) (int64, error) {
	units := []struct {
		suffix string
		shift  uint
	}{{"KiB", 10}, {"MiB", 20}, {"GiB", 30}, {"TiB", 40}, {"K", 10}, {"M", 20}, {"G", 30}, {"T", 40}}
	shift := uint(0)
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, shift = strings.TrimSuffix(s, u.suffix), u.shift
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > (1<<62)>>shift {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return n << shift, nil
}
