// Concept: the NFC responder's assumptions — every unknown of reference/nfc.md §5 the responder
// has to decide, each one named switch (a --nfc-* flag) with a conservative default, each read in
// one place (named beside the field). sim/README.md's assumptions table lists them with what
// would confirm or refute them on a real host.

package main

import (
	"errors"
	"flag"
	"fmt"
	"time"
)

// nfcOrder is the order in which a batch of replies (or of one read's fragments) is sent.
type nfcOrder int

const (
	orderInOrder nfcOrder = iota
	orderReversed
	orderShuffled
)

// esxiProfile is what differs between the ESXi releases nfc.md names (§1 version table, §2.1
// banner, §2.3 THUMBPRINT_SHA2, §3.1 HANDSHAKE and VERSION).
type esxiProfile struct {
	name       string
	libVersion int  // NfcGetServerNfcLibVersion (nfc.md §1); also the classic VERSION reply (§5.7, assumed)
	noVersion  bool // NfcGetServerNfcLibVersion answers InvalidRequest (ESXi 6.0, nfc.md §1)
	sha256     bool // banner says "SHA256 supported" and THUMBPRINT_SHA2 answers 200 (nfc.md §2.1, §2.3)
}

// handshake43 reports whether classic type 43 is accepted (nfc.md §3.1: only for lib >= 11;
// ESXi 6.7/6.0 answer it with type 4; the simulator refuses it on every lib < 11).
func (p esxiProfile) handshake43() bool { return p.libVersion >= 11 }

// aio reports whether AIO may be opened (nfc.md §3.1: AIO needs VERSION >= 3).
func (p esxiProfile) aio() bool { return p.libVersion >= 3 }

var esxiProfiles = map[string]esxiProfile{
	"8":   {name: "8", libVersion: 11, sha256: true},
	"7":   {name: "7", libVersion: 7},
	"6.7": {name: "6.7", libVersion: 2},
	"6.5": {name: "6.5", libVersion: 0},
	"6.0": {name: "6.0", libVersion: 0, noVersion: true},
}

type nfcPolicy struct {
	// §5.1 ERROR payload: true = u32 code, u32 0, u32 text length + text as extra; false = empty
	// payload (size 0). Read in aioErrorFrame.
	errorText bool
	// §5.2/§5.3 unknown reply bytes (OPEN_FILE 0–7, 24–27, 52–59; DDB_GET 0–11; allocated-blocks
	// 0–47; acks): zeros (false) or noise (true). Read in unknownFill.
	unknownNoise bool
	// §5.2 OPEN_FILE flags: only 0x1e / 0x1a (false) or any value, read-only iff bit 0x04 (true).
	// Read in aioConn.openFile.
	lenientFlags bool
	// §5.3 SET_RES_POOL / CLOSE_FILE / CLOSE_SESSION reply payload: as long as the request, zeros
	// (false), or empty (true). Read in aioConn.ack.
	emptyAcks bool
	// §5.3 whether CLOSE_FILE / CLOSE_SESSION are answered at all. Read in aioConn.ack.
	closeReplies bool
	// §5.4 ticket lifetime from issue to SESSION. Read in nfcTicketTable.redeem and prune.
	ticketTTL time.Duration
	// §5.4 several OPEN_FILEs on one session (true) or one (false). Read in aioConn.openFile.
	manyFiles bool
	// §5.5 order of the replies to pipelined requests. Read in aioConn.serve.
	replyOrder nfcOrder
	// §3.2 "fragments may come out of order": the order a read's fragments are sent in. Read in
	// aioConn.read.
	fragmentOrder nfcOrder
	// §5.5 server cap on outstanding requests: requests read ahead of their replies (the server
	// stops reading, never fails). Read in aioConn.serve and gather.
	maxOutstanding int
	// §5.5 per-request length cap (IO total length); longer gets ERROR 5. Read in aioConn.checkIO.
	maxIO int
	// §5.6 privileges per ticket method enforced for the read-only user. Read in nfcHub.ticket.
	privileges bool
	// §5.6 the endpoint named by "200 Connect" for nbdssl on ESXi (PROXY nfcssl). Read in nfcHub.proxy.
	esxSSLEndpoint string
	// §5.6 the second TLS session (nbdssl) shows another certificate than the ticket's. Read in
	// newNFCHost.
	otherSecondCert bool
	// §5.7 the ESXi release modelled. Read through nfcHub.esxi.
	esxi esxiProfile
	// §5.8 authd lines and classic frames coalesced into one TLS record are accepted (true) or the
	// connection is closed (false). Read in nfcHub.serveConn.
	coalesced bool
}

// register defines the --nfc-* flags on fs. The returned function, called after fs.Parse, checks
// the values and fills p; it returns an error naming the bad flag.
func (p *nfcPolicy) register(fs *flag.FlagSet) func() error {
	errorPayload := fs.String("nfc-error-payload", "text", "AIO ERROR payload: text (u32 code, u32 0, u32 length + text) or empty (nfc.md §5.1)")
	unknown := fs.String("nfc-unknown-bytes", "zero", "reply bytes nfc.md does not define: zero or noise (§5.2, §5.3)")
	flags := fs.String("nfc-open-flags", "strict", "OPEN_FILE flags: strict (0x1e/0x1a only) or lenient (bit 0x04 = read-only) (§5.2)")
	acks := fs.String("nfc-ack-payload", "request", "SET_RES_POOL/CLOSE_* reply payload: request (zeros, request's length) or empty (§5.3)")
	closeReply := fs.String("nfc-close-reply", "on", "answer CLOSE_FILE/CLOSE_SESSION: on or off (§5.3)")
	fs.DurationVar(&p.ticketTTL, "nfc-ticket-ttl", time.Hour, "NFC tickets expire this long after issue (§5.4)")
	files := fs.String("nfc-files-per-session", "one", "OPEN_FILEs per NFC session: one or many (§5.4)")
	replies := fs.String("nfc-reply-order", "inorder", "replies to pipelined requests: inorder, reversed or shuffled (§5.5)")
	fragments := fs.String("nfc-fragment-order", "inorder", "a read's reply fragments: inorder, reversed or shuffled (§3.2)")
	fs.IntVar(&p.maxOutstanding, "nfc-max-outstanding", 64, "requests the server reads ahead of its replies (§5.5)")
	fs.IntVar(&p.maxIO, "nfc-max-io", 2<<20, "largest IO total length in bytes; longer gets ERROR 5 (§5.5, §4)")
	privileges := fs.String("nfc-privileges", "enforce", "ticket methods need their VirtualMachine.Provisioning privilege: enforce or ignore (§5.6)")
	fs.StringVar(&p.esxSSLEndpoint, "nfc-esx-ssl-endpoint", "ha-nfcssl", "endpoint in \"200 Connect\" for PROXY nfcssl in esx mode (§5.6)")
	second := fs.String("nfc-second-cert", "same", "certificate of the nbdssl second TLS session: same or other (§5.6)")
	esxi := fs.String("nfc-esxi", "8", "ESXi release modelled: 8, 7, 6.7, 6.5 or 6.0 (§5.7)")
	coalesced := fs.String("nfc-coalesced", "refuse", "authd lines / classic frames sharing one TLS record: refuse or accept (§5.8)")

	return func() error {
		choices := []struct {
			name, value, yes, no string
			out                  *bool
		}{
			{"nfc-error-payload", *errorPayload, "text", "empty", &p.errorText},
			{"nfc-unknown-bytes", *unknown, "noise", "zero", &p.unknownNoise},
			{"nfc-open-flags", *flags, "lenient", "strict", &p.lenientFlags},
			{"nfc-ack-payload", *acks, "empty", "request", &p.emptyAcks},
			{"nfc-close-reply", *closeReply, "on", "off", &p.closeReplies},
			{"nfc-files-per-session", *files, "many", "one", &p.manyFiles},
			{"nfc-privileges", *privileges, "enforce", "ignore", &p.privileges},
			{"nfc-second-cert", *second, "other", "same", &p.otherSecondCert},
			{"nfc-coalesced", *coalesced, "accept", "refuse", &p.coalesced},
		}
		for _, c := range choices {
			v, err := parseChoice(c.name, c.value, c.yes, c.no)
			if err != nil {
				return err
			}
			*c.out = v
		}
		var err error
		if p.replyOrder, err = parseOrder("nfc-reply-order", *replies); err != nil {
			return err
		}
		if p.fragmentOrder, err = parseOrder("nfc-fragment-order", *fragments); err != nil {
			return err
		}
		prof, ok := esxiProfiles[*esxi]
		if !ok {
			return fmt.Errorf("--nfc-esxi: want 8, 7, 6.7, 6.5 or 6.0, got %q", *esxi)
		}
		p.esxi = prof
		switch {
		case p.ticketTTL <= 0:
			return errors.New("--nfc-ticket-ttl must be positive")
		case p.maxOutstanding < 1 || p.maxOutstanding > 4096:
			return errors.New("--nfc-max-outstanding must be between 1 and 4096")
		case p.maxIO < 512 || p.maxIO > maxIOCeiling:
			return fmt.Errorf("--nfc-max-io must be between 512 and %d", maxIOCeiling)
		case p.esxSSLEndpoint == "":
			return errors.New("--nfc-esx-ssl-endpoint must not be empty")
		}
		return nil
	}
}

// maxIOCeiling bounds --nfc-max-io: nfc.md §4, ESXi refused requests above about 23 MiB.
const maxIOCeiling = 23 << 20

func parseOrder(flagName, value string) (nfcOrder, error) {
	switch value {
	case "inorder":
		return orderInOrder, nil
	case "reversed":
		return orderReversed, nil
	case "shuffled":
		return orderShuffled, nil
	}
	return 0, fmt.Errorf("--%s: want inorder, reversed or shuffled, got %q", flagName, value)
}
