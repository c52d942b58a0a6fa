package config_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/config"
)

func TestLoadPayPal(t *testing.T) {
	t.Parallel()

	t.Run("production without PayPal settings has PayPal off", func(t *testing.T) {
		t.Parallel()
		c, err := config.Load(env(validProduction))
		require.NoError(t, err)
		require.Empty(t, c.PayPalClientID)
	})

	t.Run("production with PayPal uses the live API unless told otherwise", func(t *testing.T) {
		t.Parallel()
		c, err := config.Load(env(with(validProduction, map[string]string{
			"PAYPAL_CLIENT_ID": "AbC", "PAYPAL_CLIENT_SECRET": "EfG", "PAYPAL_WEBHOOK_ID": "1WH"})))
		require.NoError(t, err)
		require.Equal(t, config.PayPalLiveAPIBase, c.PayPalAPIBase)
		require.Equal(t, "1WH", c.PayPalWebhookID)
	})

	t.Run("a client id needs its secret and a webhook id; production needs https", func(t *testing.T) {
		t.Parallel()
		_, err := config.Load(env(with(validProduction, map[string]string{"PAYPAL_CLIENT_ID": "AbC", "PAYPAL_API_BASE": "http://paypal.example"})))
		require.ErrorContains(t, err, "PAYPAL_CLIENT_SECRET")
		require.ErrorContains(t, err, "PAYPAL_WEBHOOK_ID")
		require.ErrorContains(t, err, "https")
	})

	t.Run("development without settings talks to the local stand-in", func(t *testing.T) {
		t.Parallel()
		c, err := config.Load(env(map[string]string{}))
		require.NoError(t, err)
		require.Equal(t, config.DevPayPalAPIBase, c.PayPalAPIBase)
		require.Equal(t, config.DevPayPalClientID, c.PayPalClientID)
		require.Equal(t, config.DevPayPalWebhookID, c.PayPalWebhookID)
	})
}
