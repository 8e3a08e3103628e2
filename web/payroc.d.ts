// Types for payroc.js: Payroc Cloud card-present (unreferenced) refunds from a browser POS, through the
// proxy. Amounts are integers in the currency's minor units (4999 = 49.99 USD). Field names are Payroc's.

/** Options of load(). */
export interface LoadOptions {
  /** The proxy's origin; the API is under `${baseURL}/v1`. Default: location.origin. */
  baseURL?: string;
  /** The lane token (sent as `Authorization: Bearer …`). */
  token?: string;
  /**
   * Called for a new lane token when the proxy answers 401 (expired, or no longer valid after a key change),
   * once per call; the call then goes on with it. Never for a revoked token (`lane-token-revoked`): the back
   * office ended that sign-in.
   * Also gives the first token when `token` is not set. With neither `token` nor `getToken`, load() uses
   * `GET /dev/token` (only in simulator mode). A PayrocError it throws or rejects with reaches the caller
   * with its own code; any other failure, or no token, is `token-unavailable` (status 0, retryable).
   */
  getToken?: () => string | Promise<string>;
  /**
   * Called when the module's calls to the proxy start failing (no answer, or 502/503/504) and when they get
   * through again: `state` is `'retrying'` or `'online'`, `since` when the change happened (ms since the
   * epoch). It starts online; each change is reported once. The module retries by itself meanwhile; this is
   * for telling the cashier. An exception it throws is reported as uncaught and does not disturb the call.
   */
  onConnection?: (connection: Connection) => void;
}

/** What onConnection hears: the state of the module's calls to the proxy, and since when. */
export interface Connection {
  state: 'online' | 'retrying';
  /** When the call that changed the state ended, in ms since the epoch (as Date.now()). */
  since: number;
}

/**
 * Fetches `payroc.wasm` and `wasm_exec.js` (beside payroc.js), starts the module and resolves when it is
 * ready. One Go program per page: calling load again resolves with the same instance (options ignored).
 * Rejects with a PayrocError when the module cannot be loaded: `module-unavailable` when payroc.wasm or
 * wasm_exec.js cannot be fetched (`status` the HTTP status, e.g. 404, or 0 when no answer came),
 * `lane-token-missing` or `token-unavailable` without a token, `internal-error` when the module does not start.
 */
export function load(options?: LoadOptions): Promise<Payroc>;

/**
 * A lane token from the proxy's simulator-mode endpoint `GET /dev/token` (what load() uses without `token`
 * and `getToken`). Rejects with `lane-token-missing` when the proxy gives none (it is not in simulator
 * mode), or `network-error` (retryable) when it cannot be reached. (An addition to DESIGN's list.)
 */
export function devToken(baseURL: string): Promise<string>;

/** The module's functions. Every one returns a Promise and rejects with a PayrocError (or an abort reason). */
export interface Payroc {
  /**
   * Sends a refund instruction to the device; resolves when Payroc accepted it (status inProgress). The
   * refund is recorded in this browser (see pending) before anything is sent; when it cannot be (storage
   * full or turned off), nothing is sent and the call rejects with `storage-unavailable`.
   */
  submit(request: RefundRequest, options?: SubmitOptions): Promise<Instruction>;
  /**
   * Follows an instruction (long-polls) until it is completed, failure or canceled, and resolves with it —
   * all three are outcomes, not errors.
   */
  watch(refundInstructionId: string, options?: WatchOptions): Promise<Instruction>;
  /**
   * Asks the device to abandon an instruction. Resolves with the instruction as it now stands: `canceled`
   * when the cancel won; `completed` with `refundId` when the device finished first; `failure` if it had
   * already failed. Rejects only on errors (network, auth, not found). When the proxy answers 404 (it
   * restarted) for a refund this browser recorded within the last hour, it re-attaches first: the recorded
   * submit is replayed with the same key and the instruction that answers is canceled. An older record is
   * never sent again (the gateway may have forgotten its key): its 404 stands.
   */
  cancel(refundInstructionId: string, options?: CallOptions): Promise<Instruction>;
  /** Retrieves a refund (Payroc's object). */
  getRefund(refundId: string, options?: CallOptions): Promise<Refund>;
  /**
   * The whole flow: submit, watch until final, retrieve the refund when completed, and the outcome. Recorded
   * before sending, as submit. A proxy that restarts meanwhile (and forgets the instruction) is told of it
   * again by replaying the submit with the same key; the call goes on.
   */
  refund(request: RefundRequest, options?: RefundOptions): Promise<RefundResult>;
  /**
   * Refunds submitted from this browser (by submit, refund or resume) whose outcome is not known yet: the
   * final status was never seen, or (after refund/resume) the refund could not be read yet.
   */
  pending(): Promise<PendingRefund[]>;
  /**
   * Finishes a pending refund: watches its known instruction; only when the id was never received, or the
   * proxy no longer knows it (404), resubmits the same request with the same key (Payroc replays it).
   * Rejects with code `not-found` (status 0) when this browser has no such pending refund.
   */
  resume(idempotencyKey: string, options?: WatchOptions): Promise<RefundResult>;
  /**
   * Drops a pending record without finishing it, for a refund settled some other way (checked on the
   * device or in the back office). Resolves whether there was one. (An addition to DESIGN's list.)
   */
  forget(idempotencyKey: string): Promise<boolean>;
  /**
   * A new idempotency key (a random UUID v4, lower case), synchronously: keep it beside the cashier's refund
   * before calling refund, so a reload can resume the same refund. Throws a PayrocError `module-exited` when
   * the module has stopped. (An addition to DESIGN's list.)
   */
  newIdempotencyKey(): string;
}

/** Options every call takes. */
export interface CallOptions {
  /**
   * Aborting rejects the call with `signal.reason` (a DOMException named AbortError unless you gave
   * another reason) and stops the network request. It never cancels the instruction on the device: use
   * cancel() for that.
   */
  signal?: AbortSignal;
}

export interface SubmitOptions extends CallOptions {
  /** A UUID v4; a new one is generated when missing. Reuse it only to retry the very same request. */
  idempotencyKey?: string;
}

export interface WatchOptions extends CallOptions {
  /**
   * Called with the first status seen and then once per change, in order, never twice for one status,
   * ending with the final one. An exception it throws is reported as uncaught and does not stop the call.
   */
  onStatus?: (instruction: Instruction) => void;
}

/** refund(): its onStatus starts with the submit's own inProgress (which carries the instruction id). */
export interface RefundOptions extends SubmitOptions, WatchOptions {}

/** Payroc's refund-instruction body plus the device's serial number. */
export interface RefundRequest {
  /** The device's serial number, 1–64 characters (e.g. "1850010868"). */
  serialNumber: string;
  /** Payroc's processing terminal id of the device, 4–50 characters (e.g. "1234001"). */
  processingTerminalId: string;
  order: RefundOrder;
  /** Who initiated the refund, 0–50 characters (e.g. "cashier-1"). */
  operator?: string;
  customer?: Customer;
  ipAddress?: { type: 'ipv4' | 'ipv6'; value: string };
  customizationOptions?: CustomizationOptions;
}

export interface RefundOrder {
  /** The merchant's order id, 1–24 characters. */
  orderId: string;
  /** 1–256 characters; Payroc requires it. */
  description: string;
  /** Integer ≥ 1 in minor units (4999 = 49.99 USD), at most 2^53−1. */
  amount: number;
  /** ISO 4217 code from Payroc's list, upper case (e.g. "USD"). */
  currency: string;
}

export interface Address {
  address1?: string;
  address2?: string;
  address3?: string;
  city?: string;
  state?: string;
  /** ISO 3166-1 alpha-2. */
  country?: string;
  postalCode?: string;
}

export interface Customer {
  firstName?: string;
  lastName?: string;
  /** YYYY-MM-DD */
  dateOfBirth?: string;
  referenceNumber?: string;
  billingAddress?: Address;
  shippingAddress?: { recipientName?: string; address?: Address };
  contactMethods?: { type: 'email' | 'phone' | 'mobile' | 'fax'; value: string }[];
  notificationLanguage?: 'en' | 'fr';
}

export interface CustomizationOptions {
  entryMethod?: 'deviceRead' | 'manualEntry' | 'deviceReadOrManualEntry';
  ebtDetails?: { benefitCategory: 'cash' | 'foodStamp'; withdrawal?: boolean };
  closedLoopOptions?: { type: 'mifare' };
}

export type InstructionStatus = 'inProgress' | 'completed' | 'failure' | 'canceled';

export interface Link {
  rel: string;
  /** Compare case-insensitively: Payroc writes both GET and get. */
  method: string;
  href: string;
}

/** Payroc's refund instruction plus refundId and idempotencyKey. */
export interface Instruction {
  refundInstructionId: string;
  status: InstructionStatus;
  /** Only on failure: what the device reported. */
  errorMessage?: string;
  link?: Link;
  /** Set when completed: the last path segment of link.href. Not a Payroc field. */
  refundId?: string;
  /** The key the instruction was submitted with, when this browser knows it. Not a Payroc field. */
  idempotencyKey?: string;
}

export type Outcome = 'approved' | 'declined' | 'failed' | 'canceled';

export interface RefundResult {
  /**
   * approved: completed with transactionResult.responseCode "A"; declined: completed with any other code;
   * failed: the instruction ended in failure; canceled: it was canceled.
   */
  outcome: Outcome;
  instruction: Instruction;
  /** The refund when the instruction completed, else null. */
  refund: Refund | null;
}

export interface PendingRefund {
  idempotencyKey: string;
  /** The request exactly as submitted (with serialNumber). */
  request: RefundRequest;
  refundInstructionId?: string;
  status?: InstructionStatus;
  /** RFC 3339 time of the last change. */
  updatedAt: string;
  /** When the refund was first recorded, just before its submit (RFC 3339, UTC); absent in older records. */
  createdAt?: string;
}

/** Payroc's retrieved refund (GET /refunds/{refundId}). */
export interface Refund {
  refundId: string;
  processingTerminalId: string;
  operator?: string;
  order: {
    orderId: string;
    /** RFC 3339, set by the gateway. */
    dateTime?: string;
    description?: string;
    amount: number;
    currency: string;
    dccOffer?: {
      accepted?: boolean; offerReference?: string; fxAmount: number; fxCurrency: string; fxCurrencyCode?: string;
      fxCurrencyExponent?: number; fxRate: number; markup: number; markupText?: string; provider?: string; source?: string;
    };
  };
  customer?: Customer;
  card: {
    /** Brand text, e.g. "Visa Credit". */
    type: string;
    entryMethod?: 'icc' | 'keyed' | 'swiped' | 'swipedFallback' | 'contactlessIcc' | 'contactlessMsr';
    cardholderName?: string;
    cardholderSignature?: string;
    /** Masked: first six and last four, e.g. "453985******7062". */
    cardNumber: string;
    /** MMYY */
    expiryDate: string;
    secureToken?: { secureTokenId: string; customerName: string; token: string; status: string; link?: Link };
    securityChecks?: { cvvResult?: string; avsResult?: string };
    emvTags?: { hex: string; value: string }[];
    balances?: { benefitCategory: 'cash' | 'foodStamp'; amount: number; currency: string }[];
  };
  payment?: {
    paymentId: string; dateTime: string; currency: string; amount: number; status: string;
    responseCode: string; responseMessage?: string; link?: Link;
  };
  supportedOperations?: string[];
  transactionResult: {
    type?: 'sale' | 'refund' | 'preAuthorization' | 'preAuthorizationCompletion';
    ebtType?: string;
    /** e.g. "ready" (success, in the open batch), "declined", "complete"… */
    status: string;
    approvalCode?: string;
    /** Minor units; negative for a refund (money to the cardholder). */
    authorizedAmount?: number;
    currency?: string;
    /** "A" approved; "D" declined; "E", "P", "R", "C" see Payroc's docs. */
    responseCode: string;
    responseMessage?: string;
    processorResponseCode?: string;
    cardSchemeReferenceId?: string;
    healthcareIndicator?: string;
  };
  customFields?: { name: string; value: string }[];
}

/** One field at fault (Payroc's errors[] item); parameter is a JSON path such as "order.amount". */
export interface FieldError {
  parameter?: string;
  detail?: string;
  message?: string;
}

/** A problem document (RFC 7807) as Payroc or the proxy sent it, or as the module made it for invalid-request. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  resource?: string;
  errors?: FieldError[];
  link?: Link;
  [member: string]: unknown;
}

/** Payroc's own problem slugs. */
export type PayrocCode =
  | 'bad-request' | 'idempotency-key-missing' | 'not-authorized' | 'forbidden' | 'not-found' | 'not-acceptable'
  | 'cannot-be-canceled' | 'idempotency-key-in-use' | 'unsupported-media-type' | 'api-error';

/** The proxy's problem slugs. */
export type ProxyCode =
  | 'lane-token-missing' | 'lane-token-invalid' | 'lane-token-expired' | 'lane-token-revoked' | 'out-of-scope'
  | 'method-not-allowed' | 'device-busy' | 'payload-too-large' | 'rate-limited' | 'upstream-error'
  | 'identity-unavailable' | 'upstream-timeout' | 'state-unavailable' | 'request-timeout' | 'misdirected-request';

/**
 * Local codes (status 0 unless said): invalid-request (refused before sending; problem.errors[] names the
 * fields), network-error (no answer), module-exited (the Go program is gone: reload), internal-error (a bug,
 * an unreadable answer, or a module that does not start), storage-unavailable (the refund could not be
 * recorded in this browser's storage, so it was not sent; not retryable), token-unavailable (getToken
 * failed or gave no token; retryable), module-unavailable (load(): payroc.wasm or wasm_exec.js could not be
 * fetched; status is the HTTP status, 0 when no answer came).
 */
export type LocalCode =
  | 'invalid-request' | 'network-error' | 'module-exited' | 'internal-error'
  | 'storage-unavailable' | 'token-unavailable' | 'module-unavailable';

/**
 * Every code a PayrocError may carry. An answer without a problem document gets a code from its status
 * ("conflict", "service-unavailable", "server-error", or "http-<status>"); a problem with an unknown slug
 * keeps that slug.
 */
export type PayrocErrorCode =
  | PayrocCode | ProxyCode | LocalCode | 'conflict' | 'service-unavailable' | 'server-error'
  | (string & {});

export class PayrocError extends Error {
  constructor(code: PayrocErrorCode, message: string,
    init?: { status?: number; problem?: Problem | null; retryable?: boolean; cause?: unknown });
  readonly name: 'PayrocError';
  /** The stable thing to branch on. */
  code: PayrocErrorCode;
  /** The HTTP status; 0 when nothing was sent or no answer came. */
  status: number;
  /** The problem document, or null. */
  problem: Problem | null;
  /** Whether sending the same request again (with the same idempotency key) may succeed. */
  retryable: boolean;
}
