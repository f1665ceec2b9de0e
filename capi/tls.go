package main

import "C"

import (
	"crypto/tls"

	"github.com/crvideomgr/crvideomgr/core"
	"github.com/crvideomgr/crvideomgr/protocol"
)

// trustedTLS is the TLS configuration set by crvideo_setTrustedCA (nil: the
// system roots). Guarded by gmu; it survives crvideo_uninit.
var trustedTLS *tls.Config

//export crvideo_setTrustedCA
func crvideo_setTrustedCA(pemFile *C.char) (ret C.int) {
	path := goString(pemFile)
	defer guard("crvideo_setTrustedCA", func() { ret = protocol.InnerErr })
	var conf *tls.Config
	if path != "" {
		var err error
		if conf, err = core.TrustedCAConfig(path); err != nil {
			logger().Warn("crvideo_setTrustedCA: refused (CRVIDEOSDK_PARAM_ERR)", "err", clip(err.Error()))
			return protocol.ParamErr
		}
	}
	gmu.Lock()
	trustedTLS = conf
	if cur != nil {
		cur.m.SetTLSConfig(conf) // under gmu: racing calls leave both settings alike
	}
	gmu.Unlock()
	logger().Info("crvideo_setTrustedCA", "pemFile", clip(path))
	return protocol.NoErr
}

// clip shortens a string for the log: an application may pass paths of any
// length.
func clip(s string) string {
	if len(s) > 256 {
		return s[:256] + "…"
	}
	return s
}
