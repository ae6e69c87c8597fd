import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError } from '@auditflow/common';
import { loadDashboardConfig } from '../src/index.ts';

const USERS = { DASHBOARD_USERS_FILE: '/run/secrets/dashboard-users' };

describe('loadDashboardConfig', () => {
  test('defaults follow docs/configuration.md', () => {
    const config = loadDashboardConfig({ ...USERS });
    assert.equal(config.port, 8080);
    assert.equal(config.host, '0.0.0.0');
    assert.equal(config.notificationUrl, 'http://localhost:8000');
    assert.equal(config.apiToken, undefined);
    assert.equal(config.requestTimeoutMs, 5000);
    assert.equal(config.base.logLevel, 'info');
  });

  test('the split host and port build the URL', () => {
    const config = loadDashboardConfig({ ...USERS, NOTIFICATION_SERVICE_HOST: 'notification-service', NOTIFICATION_SERVICE_PORT: '8001' });
    assert.equal(config.notificationUrl, 'http://notification-service:8001');
  });

  test('NOTIFICATION_SERVICE_URL wins over the split form and loses its trailing slash', () => {
    const config = loadDashboardConfig({
      ...USERS,
      NOTIFICATION_SERVICE_URL: 'https://alerts.example.internal:8443/api/',
      NOTIFICATION_SERVICE_HOST: 'ignored',
      NOTIFICATION_API_TOKEN: 'secret-token',
      REQUEST_TIMEOUT_MS: '2500',
      APP_PORT: '0',
    });
    assert.equal(config.notificationUrl, 'https://alerts.example.internal:8443/api');
    assert.equal(config.apiToken, 'secret-token');
    assert.equal(config.requestTimeoutMs, 2500);
    assert.equal(config.port, 0);
  });

  test('every bad variable is named in one ConfigError', () => {
    assert.throws(
      () =>
        loadDashboardConfig({
          ...USERS,
          APP_PORT: 'eighty',
          NOTIFICATION_SERVICE_URL: 'ftp://files.example',
          REQUEST_TIMEOUT_MS: '0',
          LOG_LEVEL: 'loud',
        }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.code, 'AF_CONFIG_INVALID');
        assert.deepEqual(new Set(error.variables), new Set(['APP_PORT', 'NOTIFICATION_SERVICE_URL', 'REQUEST_TIMEOUT_MS', 'LOG_LEVEL']));
        return true;
      },
    );
  });

  test('a host with a scheme or port, or a URL with credentials, is refused', () => {
    assert.throws(() => loadDashboardConfig({ ...USERS, NOTIFICATION_SERVICE_HOST: 'http://notification:8000' }), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.deepEqual(error.variables, ['NOTIFICATION_SERVICE_HOST']);
      return true;
    });
    assert.throws(() => loadDashboardConfig({ ...USERS, NOTIFICATION_SERVICE_URL: 'http://user:pw@notification:8000' }), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.deepEqual(error.variables, ['NOTIFICATION_SERVICE_URL']);
      return true;
    });
    assert.throws(() => loadDashboardConfig({ NOTIFICATION_SERVICE_PORT: '0' }), ConfigError);
  });

  test('there is no open mode: without users or forward auth the start-up names DASHBOARD_USERS_FILE', () => {
    assert.throws(() => loadDashboardConfig({}), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.deepEqual(error.variables, ['DASHBOARD_USERS_FILE']);
      return true;
    });
  });

  test('allowed hosts and forward-auth proxies are validated', () => {
    const config = loadDashboardConfig({ ...USERS, DASHBOARD_ALLOWED_HOSTS: 'Auditflow.Home.Arpa, *.lan', DASHBOARD_FORWARD_AUTH_PROXIES: '10.42.0.0/16,192.0.2.7' });
    assert.deepEqual(config.auth.allowedHosts, ['auditflow.home.arpa', '*.lan']);
    assert.deepEqual(config.auth.forwardAuthProxies, ['10.42.0.0/16', '192.0.2.7']);
    assert.equal(config.auth.forwardAuthHeader, 'remote-user');
    assert.throws(
      () => loadDashboardConfig({ ...USERS, DASHBOARD_ALLOWED_HOSTS: 'http://x:80', DASHBOARD_FORWARD_AUTH_PROXIES: '10.0.0.0/33' }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.deepEqual(new Set(error.variables), new Set(['DASHBOARD_ALLOWED_HOSTS', 'DASHBOARD_FORWARD_AUTH_PROXIES']));
        return true;
      },
    );
  });
});
