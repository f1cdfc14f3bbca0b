/** Tables whose rows belong to one contact by `contact_id`: what an erase deletes and an export returns. */
export type PersonTable =
  | 'deliveries'
  | 'outbox'
  | 'events'
  | 'sessions'
  | 'visitors'
  | 'contact_scores'
  | 'event_digests'
  | 'score_changes'
  | 'stage_changes'
  | 'crm_updates'
  | 'sales_rejections'
  | 'consents'
  | 'identities';
