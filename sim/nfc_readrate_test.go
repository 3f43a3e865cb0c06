package main

import (
	"net/http"
	"testing"
)

// GET /nfc/readrate reads a disk whole through the simulator's own NFC responder over both
// transports, with every byte counted by the responder; a powered-on VM's writable disk is
// refused there as it is to any NFC client.
func TestNFCReadRate(t *testing.T) {
	s := startSim(t)
	c := s.admin(t)
	vm := s.vm(t, 0)
	path := "/nfc/readrate?vm=" + vm.Value + "&disk=2000"
	if code := s.call(t, http.MethodGet, path, nil, nil); code != http.StatusInternalServerError {
		t.Fatalf("readrate of a running VM's current disk: %d, want the responder's refusal", code)
	}
	power(t, c, vm, false)
	for _, tr := range []struct{ q, name string }{{"", "nbdssl"}, {"&ssl=1", "nbdssl"}, {"&ssl=0", "nbd"}} {
		var r readRate
		var st statsView
		s.call(t, http.MethodPost, "/stats/reset", nil, nil)
		if code := s.call(t, http.MethodGet, path+tr.q, nil, &r); code != http.StatusOK || r.Transport != tr.name ||
			r.Bytes != 64<<20 || r.Seconds <= 0 || r.BytesPerSecond <= 0 ||
			r.File != s.vmByMoref(t, vm.Value).Disks[0].FileName {
			t.Fatalf("readrate%s: %d %+v", tr.q, code, r)
		}
		s.call(t, http.MethodGet, "/stats", nil, &st)
		if st.NFC.BytesRead != 64<<20 {
			t.Fatalf("readrate%s: the responder served %d bytes", tr.q, st.NFC.BytesRead)
		}
	}
	if code := s.call(t, http.MethodGet, "/nfc/readrate?vm=vm-999&disk=2000", nil, nil); code != http.StatusNotFound {
		t.Fatalf("readrate of an unknown VM: %d", code)
	}
	if code := s.call(t, http.MethodGet, "/nfc/readrate?vm="+vm.Value+"&disk=x", nil, nil); code != http.StatusBadRequest {
		t.Fatalf("readrate of disk x: %d", code)
	}
}
