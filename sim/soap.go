// Concept: the SOAP wire format as the front door sees it: naming an incoming call, decoding the
// few request bodies the simulator handles itself, and encoding answers and faults exactly the way
// vcsim (and vCenter) do.

package main

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net/http"
	"reflect"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
	vimxml "github.com/vmware/govmomi/vim25/xml"
)

// call names one SOAP request: the method element inside the Body and its _this argument.
type call struct {
	Name  string
	Space string // the method element's namespace
	This  types.ManagedObjectReference
}

// scanCall reads just enough of a SOAP envelope to name the call. It returns a zero call when the
// body is not a SOAP request; vcsim then produces its own fault for it.
func scanCall(body []byte) call {
	var c call
	d := xml.NewDecoder(bytes.NewReader(body))
	depth := 0
	for {
		tok, err := d.Token()
		if err != nil {
			return c
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			switch {
			case depth == 3 && c.Name == "":
				c.Name, c.Space = t.Name.Local, t.Name.Space // Envelope > Body > Method
			case depth == 4 && t.Name.Local == "_this":
				var ref types.ManagedObjectReference
				if d.DecodeElement(&ref, &t) == nil {
					c.This = ref
				}
				return c
			}
		case xml.EndElement:
			depth--
			if depth < 3 && c.Name != "" {
				return c // method element without _this
			}
		}
	}
}

// disableMethodsRequest mirrors govmomi's object/authorization_manager_internal.go, plus the
// optional sessionScope that govmomi declares but never sends.
type disableMethodsRequest struct {
	This         types.ManagedObjectReference   `xml:"_this"`
	Entity       []types.ManagedObjectReference `xml:"entity"`
	Method       []object.DisabledMethodRequest `xml:"method"`
	SourceId     string                         `xml:"sourceId"`
	SessionScope *bool                          `xml:"sessionScope"`
}

// enableMethodsRequest mirrors govmomi's object/authorization_manager_internal.go.
type enableMethodsRequest struct {
	This     types.ManagedObjectReference   `xml:"_this"`
	Entity   []types.ManagedObjectReference `xml:"entity"`
	Method   []string                       `xml:"method"`
	SourceId string                         `xml:"sourceId"`
}

var vim25Types = types.TypeFunc()

// requestType resolves request element names, adding the two internalvim25 methods to vim25.
func requestType(name string) (reflect.Type, bool) {
	switch name {
	case "DisableMethods":
		return reflect.TypeOf(disableMethodsRequest{}), true
	case "EnableMethods":
		return reflect.TypeOf(enableMethodsRequest{}), true
	}
	return vim25Types(name)
}

// decodeRequest fully decodes a SOAP request body into its typed request struct (a pointer).
func decodeRequest(body []byte) (interface{}, error) {
	m, err := simulator.UnmarshalBody(requestType, body)
	if err != nil {
		return nil, err
	}
	return m.Body, nil
}

type envelope struct {
	XMLName vimxml.Name `xml:"soapenv:Envelope"`
	Enc     string      `xml:"xmlns:soapenc,attr"`
	Env     string      `xml:"xmlns:soapenv,attr"`
	XSD     string      `xml:"xmlns:xsd,attr"`
	XSI     string      `xml:"xmlns:xsi,attr"`
	Body    interface{} `xml:"soapenv:Body"`
}

type faultBody struct {
	Fault struct {
		XMLName vimxml.Name `xml:"soapenv:Fault"`
		Code    string      `xml:"faultcode"`
		String  string      `xml:"faultstring"`
		Detail  struct {
			Fault faultDetail
		} `xml:"detail"`
	}
}

// faultDetail encodes a fault as <{Type}Fault xmlns="urn:vim25" xsi:type="{Type}">.
type faultDetail struct {
	fault types.BaseMethodFault
}

func (d faultDetail) MarshalXML(e *vimxml.Encoder, start vimxml.StartElement) error {
	kind := faultName(d.fault)
	start.Name = vimxml.Name{Local: kind + "Fault"}
	start.Attr = []vimxml.Attr{
		{Name: vimxml.Name{Local: "xmlns"}, Value: "urn:vim25"},
		{Name: vimxml.Name{Local: "xsi:type"}, Value: kind},
	}
	return e.EncodeElement(d.fault, start)
}

// resultBody encodes <{Name} xmlns="urn:vim25"> holding the fields of Value (none when nil).
type resultBody struct {
	Name  string
	Value interface{}
}

func (r resultBody) MarshalXML(e *vimxml.Encoder, start vimxml.StartElement) error {
	res := vimxml.StartElement{Name: vimxml.Name{Space: "urn:vim25", Local: r.Name}}
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	if r.Value == nil {
		if err := e.EncodeToken(res); err != nil {
			return err
		}
		if err := e.EncodeToken(res.End()); err != nil {
			return err
		}
	} else if err := e.EncodeElement(r.Value, res); err != nil {
		return err
	}
	return e.EncodeToken(start.End())
}

func writeEnvelope(w http.ResponseWriter, status int, body interface{}) {
	var out bytes.Buffer
	out.WriteString(vimxml.Header)
	enc := vimxml.NewEncoder(&out)
	err := enc.Encode(&envelope{
		Enc:  "http://schemas.xmlsoap.org/soap/encoding/",
		Env:  "http://schemas.xmlsoap.org/soap/envelope/",
		XSD:  "http://www.w3.org/2001/XMLSchema",
		XSI:  "http://www.w3.org/2001/XMLSchema-instance",
		Body: body,
	})
	if err == nil {
		err = enc.Flush()
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(out.Bytes())
}

// writeResult answers a call successfully; name is the response element, e.g. "DisableMethodsResponse".
func writeResult(w http.ResponseWriter, name string, value interface{}) {
	writeEnvelope(w, http.StatusOK, resultBody{Name: name, Value: value})
}

// writeFault answers a call with a SOAP fault (HTTP 500, faultcode ServerFaultCode).
func writeFault(w http.ResponseWriter, fault types.BaseMethodFault, format string, args ...interface{}) {
	var b faultBody
	b.Fault.Code = "ServerFaultCode"
	b.Fault.String = fmt.Sprintf(format, args...)
	b.Fault.Detail.Fault = faultDetail{fault}
	writeEnvelope(w, http.StatusInternalServerError, &b)
}

// faultName is the vim25 type name of a fault, e.g. "InvalidArgument".
func faultName(fault types.BaseMethodFault) string {
	return reflect.TypeOf(fault).Elem().Name()
}

// malformedAnswer is the body of the "malformed" fault injection: a 200 whose XML stops mid-element.
const malformedAnswer = `<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><RetrieveServiceContentResponse xmlns="urn:vim25"><returnval><rootFolder type="Fold`
