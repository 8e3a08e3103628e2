// strings.js — every sentence of the page, in English (en-US) and Canadian French (fr-CA), one table per
// language. t(key, params) picks the current language's sentence and fills {name} placeholders. The
// language comes from ?lang=fr|en in the address, else the cashier's last choice (the switch, remembered in
// localStorage), else the browser's languages; amounts and dates follow it.

const LANG_KEY = 'pos.lang';

/** The languages the page speaks, with the locale its amounts and dates use. */
export const LANGUAGES = { en: 'en-US', fr: 'fr-CA' };

const en = {
  'page.title': 'Card refund',
  'page.starting': 'Starting…',
  'page.noscript': 'This page needs JavaScript to run refunds.',
  'lang.switch': 'Français',
  'lang.switchLabel': 'Afficher la page en français',
  'lane.readers.one': '1 card reader',
  'lane.readers.many': '{n} card readers',
  'lane.until': 'session until {time}',
  'lane.notConnected': 'Not connected',

  'form.title': 'New refund',
  'form.legend': 'Refund details',
  'form.device': 'Card reader',
  'form.deviceBusy': '{label} — busy with an unfinished refund',
  'form.amount': 'Amount to refund',
  'form.currency': 'Currency',
  'form.hint': 'For example {example}.',
  'form.hintMax': 'For example {example}. Up to {max}.',
  'form.orderId': 'Order number',
  'form.newOrderId': 'New number',
  'form.description': 'Description',
  'form.descriptionDefault': 'Refund for order {orderId}',
  'form.operator': 'Operator',
  'form.optional': '(optional)',
  'form.refund': 'Refund',
  'form.refundAmount': 'Refund {amount}',
  'form.running': 'Refund running…',
  'form.preview': 'The customer gets {amount} back',
  'form.previewEmpty': 'Type the amount: 12.50 is twelve dollars fifty.',
  'form.suggest': 'Did you mean {a} or {b}?',
  'form.suggestButton': '{amount}',

  'amount.empty': 'Enter the amount to refund.',
  'amount.negative': 'Enter the amount without a minus sign: it is refunded to the card.',
  'amount.chars': 'Use digits and at most one decimal separator, like 12.50 or 12,50.',
  'amount.separators': 'The separators in this amount do not make sense. Type it like 1234.50.',
  'amount.grouping': 'Thousands are grouped in threes, like 1,234.50. Or type the amount without them.',
  'amount.noDecimals': '{currency} has no decimals: type a whole amount.',
  'amount.tooManyDecimals': '{currency} has at most {digits} digits after the decimal separator.',
  'amount.zero': 'The amount must be more than zero.',
  'amount.tooLarge': 'That amount is far too large.',
  'amount.ambiguous': 'Choose what you meant: {a} or {b}.',
  'amount.overMax': 'The most this till may refund is {max}. Ask a manager for larger refunds.',
  'amount.otherCurrency': 'This till refunds in {currency} only: type the amount in {currency}, without another currency.',
  'field.device': 'Choose the card reader the customer will use.',
  'field.deviceNone': 'This till may not use any card reader. Ask a manager.',
  'field.deviceBusy': 'This card reader is busy with an unfinished refund. Wait until it ends, or choose another reader.',
  'field.orderId': 'Enter the order number (or press New number).',
  'field.description': 'Enter a short description, for example the reason for the refund.',
  'field.server': '{label}: {text}',

  'confirm.title': 'Check the refund before it goes to the card reader',
  'confirm.text': 'Refund to the card on {device}, order {orderId}.',
  'confirm.button': 'Yes, refund {amount}',
  'confirm.back': 'Back: change the amount',
  'duplicate.title': 'This was just refunded on this card reader',
  'duplicate.text': '{amount} was refunded to the card ending {last4} at {time}. Refund it again?',
  'duplicate.textNoCard': '{amount} was refunded on this card reader at {time}. Refund it again?',
  'duplicate.button': 'Yes, refund {amount} again',
  'duplicate.back': 'Back: do not refund it again',
  'status.duplicate': 'The same refund was just made: check before refunding it again.',

  'progress.title': 'Progress',
  'progress.amount': 'Amount',
  'progress.device': 'Card reader',
  'progress.order': 'Order',
  'progress.elapsed': 'Time: {time}',
  'step.sent': 'Sent to the card reader',
  'step.card': 'Waiting for the card',
  'step.result': 'Result',
  'step.approved': 'Approved',
  'step.declined': 'Declined',
  'step.failed': 'Failed',
  'step.canceled': 'Canceled',
  'step.notFinished': 'Not finished',
  'cancel.button': 'Cancel refund',

  'status.loading': 'Loading…',
  'status.idle': 'Ready for a refund.',
  'status.next': 'Ready for the next refund.',
  'status.confirming': 'Check the amount, then confirm the refund.',
  'status.sending': 'Sending {amount} to the card reader…',
  'status.checking': 'Unfinished refund of {amount} found: checking it on the card reader…',
  'status.inProgress': 'Waiting for the card: ask the customer to tap, insert or swipe their card on the reader.',
  'status.recovered': 'Unfinished refund of {amount} taken up again. Waiting for the card: ask the customer to tap, insert or swipe their card.',
  'status.canceling': 'Canceling on the card reader…',
  'status.cancelRetrying': 'Canceling: the connection is lost, still trying to reach the card reader…',
  'status.cancelFailed': 'The refund could not be canceled: {reason} It is still running: cancel it on the card reader, or try again.',
  'status.reading': 'Card read. Getting the result…',
  'status.tooLateReading': 'Cancel came too late: the card reader had already finished. Getting the result…',
  'status.approved': 'Approved: {amount} refunded to the card ending {last4}.',
  'status.approvedNoCard': 'Approved: {amount} refunded.',
  'status.tooLate': 'Cancel came too late: {amount} was refunded to the card ending {last4}.',
  'status.tooLateNoCard': 'Cancel came too late: {amount} was refunded.',
  'status.declined': 'Declined by the card issuer{reason}. No money was refunded. Ask the customer for another card, or refund another way.',
  'status.failed': 'The card reader could not complete the refund{reason}. No money was refunded. Check the card reader is on and connected, then press Refund to try again.',
  'status.canceled': 'Canceled. No money was refunded.',
  'status.error': 'The refund did not finish.',
  'status.watching': 'This refund is running in another tab of this till: shown here read-only.',
  'status.unavailable': 'Not ready: refunds are unavailable.',
  'status.laneError': 'Not ready: the card readers could not be loaded.',

  'connection.retrying': 'Connection lost, retrying ({time})',

  'banner.title': 'Unfinished refund',
  'banner.text': '{amount} for order {orderId} on card reader {device}{when} was not finished. Resume it to see whether the money was refunded.',
  'banner.when': ' (last seen {time})',
  'banner.recovered': 'The page was reloaded during a refund of {amount} for order {orderId}: it is running again below. Do not start it again.',
  'banner.movedHere': 'The refund of {amount} for order {orderId} ran in a tab in the background: this tab runs it now, below. Do not start it again.',
  'banner.takenOver': 'The tab that ran the refund of {amount} for order {orderId} was closed: this tab runs it now, below. Do not start it again.',
  'banner.otherTab': 'Another tab of this till runs the refund of {amount} for order {orderId}. This tab shows it read-only and takes it over if that tab closes.',
  'banner.unknown': 'The payment server no longer knows this refund. Check on the card reader or in the back office whether {amount} was refunded, then forget it here.',
  'banner.resume': 'Resume refund',
  'banner.forget': 'Forget it',
  'banner.forgetConfirm': 'Yes, forget it',
  'banner.forgetCheck': 'Only forget it if you checked on the card reader or in the back office that it is settled.',

  'receipt.title': 'Refund receipt',
  'receipt.approved': 'APPROVED',
  'receipt.declined': 'DECLINED',
  'receipt.customerCopy': 'Customer copy',
  'receipt.merchantCopy': 'Merchant copy',
  'receipt.amount': 'Amount',
  'receipt.card': 'Card',
  'receipt.entry': 'Entry method',
  'receipt.application': 'Application',
  'receipt.aid': 'AID',
  'receipt.approval': 'Approval code',
  'receipt.response': 'Response',
  'receipt.refundId': 'Refund ID',
  'receipt.datetime': 'Date and time',
  'receipt.order': 'Order',
  'receipt.operator': 'Operator',
  'receipt.terminal': 'Terminal',
  'receipt.reader': 'reader {serial}',
  'receipt.tooLate': 'Cancel came too late: the card reader had already refunded the card.',
  'receipt.print': 'Print receipt',
  'receipt.print80': 'Print on receipt printer (80 mm)',
  'receipt.new': 'New refund',
  'entry.icc': 'Chip',
  'entry.keyed': 'Keyed',
  'entry.swiped': 'Swiped',
  'entry.swipedFallback': 'Swiped (chip fallback)',
  'entry.contactlessIcc': 'Contactless',
  'entry.contactlessMsr': 'Contactless (magstripe)',

  'error.mayHaveReached': 'The refund may have reached the card reader. Do not start a new one: it is kept as unfinished above; press Resume refund to find out what happened.',
  'error.unfinishedOrder': 'An earlier refund for order {orderId} may have gone through.',
  'error.unfinishedOrderAction': 'Press Resume refund above to find out what happened, then refund this order again if needed.',
  'error.generic': 'The payment server refused the refund ({code}).',
  'error.genericAction': 'Check the details and try again, or call support.',
  'error.unreachable': 'The payment service is not answering right now.',
  'error.unreachableAction': 'Wait a minute, then try again. If it keeps happening, call support.',
  'error.device-busy': 'The card reader is busy with another refund or payment.',
  'error.device-busy.action': 'Wait until the reader is free (or cancel there), then press Refund again.',
  'error.out-of-scope': 'This till may not make this refund: the card reader, the amount or the currency is outside its limits.',
  'error.out-of-scope.action': 'Check the amount against the limit shown under it, or ask a manager.',
  'error.network-error': 'The till cannot reach the payment server. It may be offline.',
  'error.network-error.action': 'Check the network cable or Wi-Fi, then try again.',
  'error.lane-token-expired': 'This till\'s session has expired.',
  'error.lane-token-expired.action': 'Reload the page to start a new session. Ask a manager if it keeps happening.',
  'error.lane-token-missing': 'This till is not signed in to the payment server.',
  'error.lane-token-missing.action': 'Open the till link your manager gave you, or reload the page.',
  'error.lane-token-invalid': 'This till\'s sign-in is not valid.',
  'error.lane-token-invalid.action': 'Open the till link your manager gave you, or reload the page.',
  'error.lane-token-revoked': 'This till\'s sign-in was withdrawn.',
  'error.lane-token-revoked.action': 'Open the till link your manager gives you now.',
  'error.token-unavailable': 'This till could not renew its sign-in with the payment server.',
  'error.token-unavailable.action': 'Check the network, then press Refund again. Ask a manager if it keeps happening.',
  'error.invalid-request': 'Some details are not right.',
  'error.invalid-request.action': 'Fix the marked fields, then press Refund.',
  'error.bad-request': 'The payment server did not accept these details.',
  'error.bad-request.action': 'Check the marked fields (or the card reader), then press Refund again.',
  'error.rate-limited': 'This till sent too many requests at once.',
  'error.rate-limited.action': 'Wait a few seconds, then try again.',
  'error.not-found': 'The payment server does not know this refund or card reader.',
  'error.not-found.action': 'Check the card reader, then start the refund again.',
  'error.idempotency-key-in-use': 'This refund clashes with an earlier one.',
  'error.idempotency-key-in-use.action': 'Start a new refund.',
  'error.forbidden': 'The payment service refused this request.',
  'error.forbidden.action': 'Call support: the merchant account may not be set up for refunds on this reader.',
  'error.not-authorized': 'The payment service refused this till.',
  'error.not-authorized.action': 'Call support: the proxy\'s credentials may be wrong.',
  'error.module-exited': 'The payment module stopped.',
  'error.module-exited.action': 'Reload the page. An unfinished refund is taken up again by itself.',
  'error.internal-error': 'Something went wrong in the till software.',
  'error.internal-error.action': 'Reload the page and try again. If it keeps happening, call support.',
  'error.storage-unavailable': 'This browser\'s storage is full or turned off, so the refund was not sent. No money was refunded.',
  'error.storage-unavailable.action': 'Ask IT to free up space or allow site data for this page, then press Refund again.',
  'error.state-unavailable': 'The payment server cannot check the card reader right now. Nothing was sent.',
  'error.state-unavailable.action': 'Wait a few seconds, then try again.',

  'load.noToken': 'This till has no lane token. Open the till link your manager gave you.',
  'quote': '{text}',
  'device.own': '{text}',
  'device.stopped': 'Device error: the card reader stopped responding',
  'device.noCard': 'No card was presented before the instruction timed out',
  'device.ended': 'The instruction was ended by the simulator\'s test controls',
  'response.APPROVED': 'APPROVED',
  'response.DECLINED': 'DECLINED',
  'status.failedReason': ': {text}',
  'load.missing': 'Refunds cannot run: the payment module is not installed on this server. Ask IT to build it (make wasm), then reload this page.',
  'load.failed': 'Refunds cannot run on this page: {reason}. Reload the page; if it keeps happening, call support.',
  'storage.warning': 'This browser cannot keep unfinished refunds (its storage is full or turned off). Refunds still work, but do not reload or close this page while one is running. Ask IT to allow site data for this page.',
};

const fr = {
  'page.title': 'Remboursement par carte',
  'page.starting': 'Démarrage…',
  'page.noscript': 'Cette page a besoin de JavaScript pour faire des remboursements.',
  'lang.switch': 'English',
  'lang.switchLabel': 'Show the page in English',
  'lane.readers.one': '1 terminal de paiement',
  'lane.readers.many': '{n} terminaux de paiement',
  'lane.until': 'session jusqu’à {time}',
  'lane.notConnected': 'Non connecté',

  'form.title': 'Nouveau remboursement',
  'form.legend': 'Détails du remboursement',
  'form.device': 'Terminal de paiement',
  'form.deviceBusy': '{label} — occupé par un remboursement non terminé',
  'form.amount': 'Montant à rembourser',
  'form.currency': 'Devise',
  'form.hint': 'Par exemple {example}.',
  'form.hintMax': 'Par exemple {example}. Jusqu’à {max}.',
  'form.orderId': 'Numéro de commande',
  'form.newOrderId': 'Nouveau numéro',
  'form.description': 'Description',
  'form.descriptionDefault': 'Remboursement de la commande {orderId}',
  'form.operator': 'Opérateur',
  'form.optional': '(facultatif)',
  'form.refund': 'Rembourser',
  'form.refundAmount': 'Rembourser {amount}',
  'form.running': 'Remboursement en cours…',
  'form.preview': 'Le client reçoit {amount}',
  'form.previewEmpty': 'Tapez le montant : 12,50 fait douze dollars cinquante.',
  'form.suggest': 'Vouliez-vous dire {a} ou {b} ?',
  'form.suggestButton': '{amount}',

  'amount.empty': 'Entrez le montant à rembourser.',
  'amount.negative': 'Entrez le montant sans signe moins : il est remboursé sur la carte.',
  'amount.chars': 'Utilisez des chiffres et au plus un séparateur décimal, comme 12,50 ou 12.50.',
  'amount.separators': 'Les séparateurs de ce montant ne sont pas cohérents. Tapez-le comme 1234,50.',
  'amount.grouping': 'Les milliers se groupent par trois, comme 1 234,50. Ou tapez le montant sans séparateur.',
  'amount.noDecimals': 'La devise {currency} n’a pas de décimales : tapez un montant entier.',
  'amount.tooManyDecimals': 'La devise {currency} a au plus {digits} chiffres après le séparateur décimal.',
  'amount.zero': 'Le montant doit être supérieur à zéro.',
  'amount.tooLarge': 'Ce montant est beaucoup trop élevé.',
  'amount.ambiguous': 'Choisissez ce que vous vouliez dire : {a} ou {b}.',
  'amount.overMax': 'Cette caisse peut rembourser au plus {max}. Demandez à un gérant pour un montant plus élevé.',
  'amount.otherCurrency': 'Cette caisse rembourse en {currency} seulement : tapez le montant en {currency}, sans autre devise.',
  'field.device': 'Choisissez le terminal que le client utilisera.',
  'field.deviceNone': 'Cette caisse ne peut utiliser aucun terminal. Demandez à un gérant.',
  'field.deviceBusy': 'Ce terminal est occupé par un remboursement non terminé. Attendez qu’il se termine, ou choisissez un autre terminal.',
  'field.orderId': 'Entrez le numéro de commande (ou appuyez sur Nouveau numéro).',
  'field.description': 'Entrez une courte description, par exemple la raison du remboursement.',
  'field.server': '{label} : {text}',

  'confirm.title': 'Vérifiez le remboursement avant de l’envoyer au terminal',
  'confirm.text': 'Remboursement sur la carte au terminal {device}, commande {orderId}.',
  'confirm.button': 'Oui, rembourser {amount}',
  'confirm.back': 'Retour : modifier le montant',
  'duplicate.title': 'Ce remboursement vient d’être fait sur ce terminal',
  'duplicate.text': '{amount} a été remboursé sur la carte se terminant par {last4} à {time}. Le rembourser de nouveau ?',
  'duplicate.textNoCard': '{amount} a été remboursé sur ce terminal à {time}. Le rembourser de nouveau ?',
  'duplicate.button': 'Oui, rembourser {amount} de nouveau',
  'duplicate.back': 'Retour : ne pas le rembourser de nouveau',
  'status.duplicate': 'Le même remboursement vient d’être fait : vérifiez avant de le refaire.',

  'progress.title': 'Progression',
  'progress.amount': 'Montant',
  'progress.device': 'Terminal',
  'progress.order': 'Commande',
  'progress.elapsed': 'Durée : {time}',
  'step.sent': 'Envoyé au terminal',
  'step.card': 'En attente de la carte',
  'step.result': 'Résultat',
  'step.approved': 'Approuvé',
  'step.declined': 'Refusé',
  'step.failed': 'Échec',
  'step.canceled': 'Annulé',
  'step.notFinished': 'Non terminé',
  'cancel.button': 'Annuler le remboursement',

  'status.loading': 'Chargement…',
  'status.idle': 'Prêt pour un remboursement.',
  'status.next': 'Prêt pour le prochain remboursement.',
  'status.confirming': 'Vérifiez le montant, puis confirmez le remboursement.',
  'status.sending': 'Envoi de {amount} au terminal…',
  'status.checking': 'Remboursement non terminé de {amount} trouvé : vérification auprès du terminal…',
  'status.inProgress': 'En attente de la carte : demandez au client de présenter, d’insérer ou de glisser sa carte sur le terminal.',
  'status.recovered': 'Remboursement non terminé de {amount} repris. En attente de la carte : demandez au client de présenter, d’insérer ou de glisser sa carte.',
  'status.canceling': 'Annulation sur le terminal…',
  'status.cancelRetrying': 'Annulation : la connexion est perdue, nouvel essai pour joindre le terminal…',
  'status.cancelFailed': 'Le remboursement n’a pas pu être annulé : {reason} Il est toujours en cours : annulez-le sur le terminal, ou réessayez.',
  'status.reading': 'Carte lue. Obtention du résultat…',
  'status.tooLateReading': 'Annulation trop tardive : le terminal avait déjà terminé. Obtention du résultat…',
  'status.approved': 'Approuvé : {amount} remboursé sur la carte se terminant par {last4}.',
  'status.approvedNoCard': 'Approuvé : {amount} remboursé.',
  'status.tooLate': 'Annulation trop tardive : {amount} a été remboursé sur la carte se terminant par {last4}.',
  'status.tooLateNoCard': 'Annulation trop tardive : {amount} a été remboursé.',
  'status.declined': 'Refusé par l’émetteur de la carte{reason}. Aucun argent n’a été remboursé. Demandez une autre carte au client, ou remboursez autrement.',
  'status.failed': 'Le terminal n’a pas pu terminer le remboursement{reason}. Aucun argent n’a été remboursé. Vérifiez que le terminal est allumé et connecté, puis appuyez sur Rembourser pour réessayer.',
  'status.canceled': 'Annulé. Aucun argent n’a été remboursé.',
  'status.error': 'Le remboursement ne s’est pas terminé.',
  'status.watching': 'Ce remboursement se déroule dans un autre onglet de cette caisse : affiché ici en lecture seule.',
  'status.unavailable': 'Pas prêt : les remboursements sont indisponibles.',
  'status.laneError': 'Pas prêt : les terminaux n’ont pas pu être chargés.',

  'connection.retrying': 'Connexion perdue, nouvel essai ({time})',

  'banner.title': 'Remboursement non terminé',
  'banner.text': '{amount} pour la commande {orderId} au terminal {device}{when} n’a pas été terminé. Reprenez-le pour savoir si l’argent a été remboursé.',
  'banner.when': ' (vu pour la dernière fois {time})',
  'banner.recovered': 'La page a été rechargée pendant un remboursement de {amount} pour la commande {orderId} : il a repris ci-dessous. Ne le recommencez pas.',
  'banner.movedHere': 'Le remboursement de {amount} pour la commande {orderId} se faisait dans un onglet en arrière-plan : cet onglet le fait maintenant, ci-dessous. Ne le recommencez pas.',
  'banner.takenOver': 'L’onglet qui faisait le remboursement de {amount} pour la commande {orderId} a été fermé : cet onglet le fait maintenant, ci-dessous. Ne le recommencez pas.',
  'banner.otherTab': 'Un autre onglet de cette caisse fait le remboursement de {amount} pour la commande {orderId}. Cet onglet l’affiche en lecture seule et le reprend si l’autre onglet se ferme.',
  'banner.unknown': 'Le serveur de paiement ne connaît plus ce remboursement. Vérifiez sur le terminal ou au bureau si {amount} a été remboursé, puis oubliez-le ici.',
  'banner.resume': 'Reprendre le remboursement',
  'banner.forget': 'L’oublier',
  'banner.forgetConfirm': 'Oui, l’oublier',
  'banner.forgetCheck': 'Oubliez-le seulement si vous avez vérifié sur le terminal ou au bureau qu’il est réglé.',

  'receipt.title': 'Reçu de remboursement',
  'receipt.approved': 'APPROUVÉ',
  'receipt.declined': 'REFUSÉ',
  'receipt.customerCopy': 'Copie du client',
  'receipt.merchantCopy': 'Copie du commerçant',
  'receipt.amount': 'Montant',
  'receipt.card': 'Carte',
  'receipt.entry': 'Mode de saisie',
  'receipt.application': 'Application',
  'receipt.aid': 'AID',
  'receipt.approval': 'Code d’autorisation',
  'receipt.response': 'Réponse',
  'receipt.refundId': 'N° de remboursement',
  'receipt.datetime': 'Date et heure',
  'receipt.order': 'Commande',
  'receipt.operator': 'Opérateur',
  'receipt.terminal': 'Terminal',
  'receipt.reader': 'terminal {serial}',
  'receipt.tooLate': 'Annulation trop tardive : le terminal avait déjà remboursé la carte.',
  'receipt.print': 'Imprimer le reçu',
  'receipt.print80': 'Imprimer sur l’imprimante à reçus (80 mm)',
  'receipt.new': 'Nouveau remboursement',
  'entry.icc': 'Puce',
  'entry.keyed': 'Saisie manuelle',
  'entry.swiped': 'Bande magnétique',
  'entry.swipedFallback': 'Bande magnétique (repli de la puce)',
  'entry.contactlessIcc': 'Sans contact',
  'entry.contactlessMsr': 'Sans contact (bande magnétique)',

  'error.mayHaveReached': 'Le remboursement a peut-être atteint le terminal. N’en commencez pas un nouveau : il est gardé comme non terminé ci-dessus; appuyez sur Reprendre le remboursement pour savoir ce qui s’est passé.',
  'error.unfinishedOrder': 'Un remboursement précédent de la commande {orderId} a peut-être été fait.',
  'error.unfinishedOrderAction': 'Appuyez sur Reprendre le remboursement ci-dessus pour savoir ce qui s’est passé, puis remboursez de nouveau cette commande au besoin.',
  'error.generic': 'Le serveur de paiement a refusé le remboursement ({code}).',
  'error.genericAction': 'Vérifiez les détails et réessayez, ou appelez le soutien.',
  'error.unreachable': 'Le service de paiement ne répond pas en ce moment.',
  'error.unreachableAction': 'Attendez une minute, puis réessayez. Si le problème persiste, appelez le soutien.',
  'error.device-busy': 'Le terminal est occupé par un autre remboursement ou paiement.',
  'error.device-busy.action': 'Attendez que le terminal soit libre (ou annulez sur le terminal), puis appuyez de nouveau sur Rembourser.',
  'error.out-of-scope': 'Cette caisse ne peut pas faire ce remboursement : le terminal, le montant ou la devise dépasse ses limites.',
  'error.out-of-scope.action': 'Vérifiez le montant par rapport à la limite indiquée dessous, ou demandez à un gérant.',
  'error.network-error': 'La caisse ne peut pas joindre le serveur de paiement. Elle est peut-être hors ligne.',
  'error.network-error.action': 'Vérifiez le câble réseau ou le Wi-Fi, puis réessayez.',
  'error.lane-token-expired': 'La session de cette caisse a expiré.',
  'error.lane-token-expired.action': 'Rechargez la page pour ouvrir une nouvelle session. Demandez à un gérant si le problème persiste.',
  'error.lane-token-missing': 'Cette caisse n’est pas connectée au serveur de paiement.',
  'error.lane-token-missing.action': 'Ouvrez le lien de caisse que votre gérant vous a donné, ou rechargez la page.',
  'error.lane-token-invalid': 'La connexion de cette caisse n’est pas valide.',
  'error.lane-token-invalid.action': 'Ouvrez le lien de caisse que votre gérant vous a donné, ou rechargez la page.',
  'error.lane-token-revoked': 'La connexion de cette caisse a été retirée.',
  'error.lane-token-revoked.action': 'Ouvrez le lien de caisse que votre gérant vous donne maintenant.',
  'error.token-unavailable': 'Cette caisse n’a pas pu renouveler sa connexion au serveur de paiement.',
  'error.token-unavailable.action': 'Vérifiez le réseau, puis appuyez de nouveau sur Rembourser. Demandez à un gérant si le problème persiste.',
  'error.invalid-request': 'Certains détails ne sont pas corrects.',
  'error.invalid-request.action': 'Corrigez les champs indiqués, puis appuyez sur Rembourser.',
  'error.bad-request': 'Le serveur de paiement n’a pas accepté ces détails.',
  'error.bad-request.action': 'Vérifiez les champs indiqués (ou le terminal), puis appuyez de nouveau sur Rembourser.',
  'error.rate-limited': 'Cette caisse a envoyé trop de demandes à la fois.',
  'error.rate-limited.action': 'Attendez quelques secondes, puis réessayez.',
  'error.not-found': 'Le serveur de paiement ne connaît pas ce remboursement ou ce terminal.',
  'error.not-found.action': 'Vérifiez le terminal, puis recommencez le remboursement.',
  'error.idempotency-key-in-use': 'Ce remboursement entre en conflit avec un précédent.',
  'error.idempotency-key-in-use.action': 'Commencez un nouveau remboursement.',
  'error.forbidden': 'Le service de paiement a refusé cette demande.',
  'error.forbidden.action': 'Appelez le soutien : le compte du commerçant n’est peut-être pas configuré pour les remboursements sur ce terminal.',
  'error.not-authorized': 'Le service de paiement a refusé cette caisse.',
  'error.not-authorized.action': 'Appelez le soutien : les identifiants du serveur mandataire sont peut-être erronés.',
  'error.module-exited': 'Le module de paiement s’est arrêté.',
  'error.module-exited.action': 'Rechargez la page. Un remboursement non terminé est repris automatiquement.',
  'error.internal-error': 'Un problème est survenu dans le logiciel de la caisse.',
  'error.internal-error.action': 'Rechargez la page et réessayez. Si le problème persiste, appelez le soutien.',
  'error.storage-unavailable': 'Le stockage de ce navigateur est plein ou désactivé, donc le remboursement n’a pas été envoyé. Aucun argent n’a été remboursé.',
  'error.storage-unavailable.action': 'Demandez au soutien informatique de libérer de l’espace ou d’autoriser les données de site pour cette page, puis appuyez de nouveau sur Rembourser.',
  'error.state-unavailable': 'Le serveur de paiement ne peut pas vérifier le terminal en ce moment. Rien n’a été envoyé.',
  'error.state-unavailable.action': 'Attendez quelques secondes, puis réessayez.',

  'load.noToken': 'Cette caisse n’a pas de jeton de connexion. Ouvrez le lien de caisse que votre gérant vous a donné.',
  'quote': '« {text} »',
  'device.own': 'message du terminal : « {text} »',
  'device.stopped': 'Erreur du terminal : le terminal de paiement ne répond plus',
  'device.noCard': 'Aucune carte n’a été présentée avant l’expiration de l’instruction',
  'device.ended': 'L’instruction a été terminée par les commandes de test du simulateur',
  'response.APPROVED': 'APPROUVÉ',
  'response.DECLINED': 'REFUSÉ',
  'status.failedReason': ' : {text}',
  'load.missing': 'Les remboursements ne peuvent pas fonctionner : le module de paiement n’est pas installé sur ce serveur. Demandez au soutien informatique de le construire (make wasm), puis rechargez cette page.',
  'load.failed': 'Les remboursements ne peuvent pas fonctionner sur cette page : {reason}. Rechargez la page; si le problème persiste, appelez le soutien.',
  'storage.warning': 'Ce navigateur ne peut pas garder les remboursements non terminés (son stockage est plein ou désactivé). Les remboursements fonctionnent quand même, mais ne rechargez pas et ne fermez pas cette page pendant un remboursement. Demandez au soutien informatique d’autoriser les données de site pour cette page.',
};

const TABLES = { en, fr };

let current = 'en';

/** The language chosen for this page: ?lang=, else the remembered switch, else the browser's. */
export function pickLanguage() {
  const asked = new URLSearchParams(location.search).get('lang');
  if (asked && TABLES[asked]) {
    remember(asked);
    return asked;
  }
  try {
    const saved = localStorage.getItem(LANG_KEY);
    if (saved && TABLES[saved]) return saved;
  } catch { /* no storage: the browser's language */ }
  for (const l of navigator.languages ?? [navigator.language]) {
    const base = String(l).toLowerCase().split('-')[0];
    if (TABLES[base]) return base;
  }
  return 'en';
}

function remember(lang) {
  try { localStorage.setItem(LANG_KEY, lang); } catch { /* not remembered */ }
}

/** Switches the language (remembered for the next visits). */
export function setLanguage(lang, { save = true } = {}) {
  if (!TABLES[lang]) return;
  current = lang;
  if (save) remember(lang);
  document.documentElement.lang = LANGUAGES[lang];
}

/** The current language: 'en' or 'fr'. */
export function language() { return current; }

/** The locale amounts and dates follow: en-US or fr-CA. */
export function locale() { return LANGUAGES[current]; }

/** Whether a sentence exists for key (in English, the reference table). */
export function has(key) { return key in en; }

// The device errors and issuer responses the page knows, by the device's own (English) words: shown in the
// page's language. Any other text is the device's own words, quoted as such (deviceWords).
const DEVICE_TEXTS = {
  'Device error: the card reader stopped responding': 'device.stopped',
  'No card was presented before the instruction timed out': 'device.noCard',
  'The instruction was ended by the simulator\'s test controls': 'device.ended',
};

/** A moment for people, in the one format of the language, on the banner and the receipt alike. */
export function when(date) {
  return date.toLocaleString(locale(), { dateStyle: 'medium', timeStyle: 'short' });
}

/** A device's error text in the page's language: translated when known, else quoted as the device's words. */
export function deviceWords(text) {
  const key = DEVICE_TEXTS[text];
  return key ? t(key) : t('device.own', { text });
}

/** An issuer's response message (APPROVED, DECLINED…) in the page's language; an unknown one quoted. */
export function responseWords(text) {
  return has(`response.${text}`) ? t(`response.${text}`) : t('quote', { text });
}

/** The sentence for key in the current language, with {name} filled from params. */
export function t(key, params = {}) {
  const text = TABLES[current][key] ?? en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
}

/** Both tables, for the test that checks every key is translated. */
export const tables = TABLES;
