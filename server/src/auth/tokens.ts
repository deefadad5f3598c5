import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { type Role, RoleSchema } from '@cxr/shared';
import { SignJWT, errors, jwtVerify } from 'jose';
import { z } from 'zod';

const ISSUER = 'cxr-consensus';

export interface TokenClaims {
  readonly userId: string;
  readonly role: Role;
}

export type VerifyResult = { ok: true; claims: TokenClaims } | { ok: false; reason: 'expired' | 'invalid' };

const PayloadSchema = z.object({ sub: z.string().min(1), role: RoleSchema });

/** Signs and verifies HS256 tokens that expire. */
export class TokenService {
  private readonly key: Uint8Array;

  constructor(
    secret: Uint8Array,
    private readonly ttlSeconds: number,
  ) {
    this.key = secret;
  }

  async sign(claims: TokenClaims, ttlSeconds = this.ttlSeconds): Promise<string> {
    return new SignJWT({ role: claims.role })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(claims.userId)
      .setIssuer(ISSUER)
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
      .sign(this.key);
  }

  async verify(token: string): Promise<VerifyResult> {
    try {
      const { payload } = await jwtVerify(token, this.key, { issuer: ISSUER, algorithms: ['HS256'] });
      const parsed = PayloadSchema.safeParse(payload);
      if (!parsed.success) return { ok: false, reason: 'invalid' };
      return { ok: true, claims: { userId: parsed.data.sub, role: parsed.data.role } };
    } catch (error) {
      return { ok: false, reason: error instanceof errors.JWTExpired ? 'expired' : 'invalid' };
    }
  }
}

/**
 * The signing key: from configuration, or kept in `<dataDir>/token-secret` (owner-only) so a
 * restart does not log everyone out.
 */
export function loadSigningKey(dataDir: string, configured: string | undefined): Uint8Array {
  if (configured) return new TextEncoder().encode(configured);
  const file = path.join(dataDir, 'token-secret');
  fs.mkdirSync(dataDir, { recursive: true });
  try {
    return new Uint8Array(Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64url'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const secret = randomBytes(48);
  fs.writeFileSync(file, secret.toString('base64url'), { mode: 0o600, flag: 'wx' });
  return new Uint8Array(secret);
}
