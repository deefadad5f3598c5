import { useCallback, useMemo, useState } from 'react';
import { sharedImageCache } from '../viewer/image-cache.js';
import { Api } from './api.js';
import { type Auth, loadAuth, saveAuth } from './auth.js';
import { LoginView } from './LoginView.js';
import { navigate, useRoute } from './router.js';
import { SessionsView } from './SessionsView.js';
import { SessionView } from './SessionView.js';

export function App() {
  const [auth, setAuth] = useState<Auth | undefined>(() => loadAuth());
  const [expired, setExpired] = useState(false);
  const route = useRoute();

  const signOut = useCallback((why?: 'expired') => {
    saveAuth(undefined);
    // Decoded scans were fetched with this user's rights: the next user fetches their own.
    sharedImageCache().clear();
    setAuth(undefined);
    setExpired(why === 'expired');
  }, []);

  const api = useMemo(() => new Api(auth?.token, () => signOut('expired')), [auth?.token, signOut]);

  if (!auth) {
    return (
      <LoginView
        notice={expired ? 'Your session expired: please sign in again.' : undefined}
        onLogin={(a) => {
          saveAuth(a);
          setAuth(a);
          setExpired(false);
        }}
      />
    );
  }

  if (route.name === 'session') {
    return (
      <SessionView
        key={route.sessionId}
        api={api}
        auth={auth}
        sessionId={route.sessionId}
        scanId={route.scanId}
        onSignOut={() => signOut()}
      />
    );
  }
  return (
    <SessionsView
      api={api}
      auth={auth}
      onOpen={(sessionId) => navigate({ name: 'session', sessionId, scanId: undefined })}
      onSignOut={() => signOut()}
    />
  );
}
