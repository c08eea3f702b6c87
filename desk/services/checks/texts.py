"""What the user reads during a check, in Italian and English: the questions, the
re-asks, each line of the working and of the limits, and the result as one message."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Dict, List, Optional

from desk.answer_format import format_date
from desk.services.checks.result import CheckResult, Step

T = Dict[str, Dict[str, str]]

TITLES: T = {
    "congedo_parentale": {"it": "Congedo parentale: quanto ti resta", "en": "Parental leave: what is left"},
    "congedo_paternita": {"it": "Congedo di paternità: giorni e scadenze", "en": "Paternity leave: days and dates"},
    "permessi_104": {"it": "Permessi legge 104: giorni e ore al mese", "en": "L. 104 permits: days and hours a month"},
    "fringe_benefit": {"it": "Fringe benefit: quanto puoi ancora dare esente", "en": "Fringe benefits: what you can still give tax-free"},
    "bonus_asilo_nido": {"it": "Bonus asilo nido: quanto spetta", "en": "Nursery bonus: how much you can get"},
}

QUESTIONS: T = {
    "congedo_parentale.child_date": {
        "it": "Quando è nato tuo figlio (o, per adozione o affidamento, quando è entrato in famiglia)? Scrivi la data, es. 15/03/2024.",
        "en": "When was your child born (or, for adoption or foster care, when did the child join the family)? Write the date, e.g. 15/03/2024.",
    },
    "congedo_parentale.maternity_end": {
        "it": "Quando è finito il congedo di maternità (o di paternità alternativo)? Scrivi la data, es. 30/06/2024.",
        "en": "When did the maternity leave (or alternative paternity leave) end? Write the date, e.g. 30/06/2024.",
    },
    "congedo_parentale.single_parent": {
        "it": "Sei un genitore solo (l'altro genitore è assente, non ha riconosciuto il figlio o il figlio è affidato solo a te)?",
        "en": "Are you a single parent (the other parent is absent, did not recognise the child, or the child is in your sole care)?",
    },
    "congedo_parentale.months_used_self": {
        "it": "Quanti mesi di congedo parentale hai già usato per questo figlio? (0 se nessuno)",
        "en": "How many months of parental leave have you already used for this child? (0 if none)",
    },
    "congedo_parentale.months_used_mother": {
        "it": "Quanti mesi di congedo parentale ha già usato la madre per questo figlio? (0 se nessuno)",
        "en": "How many months of parental leave has the mother already used for this child? (0 if none)",
    },
    "congedo_parentale.months_used_father": {
        "it": "E quanti mesi ha già usato il padre? (0 se nessuno)",
        "en": "And how many months has the father already used? (0 if none)",
    },
    "congedo_parentale.months_used_high": {
        "it": "Di questi mesi già usati, quanti sono stati pagati all'80%? (0 se nessuno)",
        "en": "Of the months already used, how many were paid at 80%? (0 if none)",
    },
    "congedo_parentale.income_below_limit": {
        "it": "Il tuo reddito è inferiore a {multiple} volte il trattamento minimo di pensione INPS? Serve per gli ultimi mesi.",
        "en": "Is your income below {multiple} times the INPS minimum pension? It matters for the last months.",
    },
    "congedo_paternita.born": {"it": "Il bambino è già nato?", "en": "Has the baby already been born?"},
    "congedo_paternita.birth_date": {
        "it": "In che data è nato (o è entrato in famiglia, per adozione o affidamento)? Es. 10/09/2026.",
        "en": "On what date was the baby born (or joined the family, for adoption or foster care)? E.g. 10/09/2026.",
    },
    "congedo_paternita.expected_date": {
        "it": "Qual è la data presunta del parto? Es. 20/01/2027.",
        "en": "What is the expected date of birth? E.g. 20/01/2027.",
    },
    "congedo_paternita.multiple_birth": {"it": "È un parto plurimo (gemelli o più)?", "en": "Is it a multiple birth (twins or more)?"},
    "congedo_paternita.days_used": {
        "it": "Quanti giorni di congedo di paternità hai già preso? (0 se nessuno)",
        "en": "How many days of paternity leave have you already taken? (0 if none)",
    },
    "permessi_104.weekly_hours": {
        "it": "Quante ore lavori a settimana, secondo il tuo contratto? Es. 40",
        "en": "How many hours a week do you work under your contract? E.g. 40",
    },
    "permessi_104.working_days": {
        "it": "Su quanti giorni a settimana è distribuito il tuo orario? Es. 5",
        "en": "Over how many days a week is your working time spread? E.g. 5",
    },
    "permessi_104.days_used": {
        "it": "Quanti giorni di permesso sono già stati usati questo mese per la stessa persona assistita, da te o da altri familiari? (0 se nessuno)",
        "en": "How many permit days have already been used this month for the same person, by you or by other relatives? (0 if none)",
    },
    "fringe_benefit.dependent_children": {
        "it": "Il dipendente ha figli fiscalmente a carico (e ti ha dato o ti darà l'autocertificazione con i codici fiscali)?",
        "en": "Does the employee have tax-dependent children (and has given or will give you the self-declaration with their tax codes)?",
    },
    "fringe_benefit.given": {
        "it": "Quanto gli hai già dato quest'anno in beni, servizi o rimborsi di bollette, affitto o interessi del mutuo? In euro, 0 se nulla.",
        "en": "How much have you already given them this year in goods, services or refunds of bills, rent or mortgage interest? In euros, 0 if nothing.",
    },
    "fringe_benefit.planned": {
        "it": "Quanto vorresti dargli ancora quest'anno? In euro, 0 se nulla.",
        "en": "How much more would you like to give them this year? In euros, 0 if nothing.",
    },
    "bonus_asilo_nido.child_birth_date": {
        "it": "Quando è nato il bambino? Scrivi la data, es. 05/02/2025.",
        "en": "When was the child born? Write the date, e.g. 05/02/2025.",
    },
    "bonus_asilo_nido.isee": {
        "it": "Qual è l'ISEE minorenni della famiglia, in euro? (Se non lo avete, scrivi «senza ISEE».)",
        "en": "What is the family's ISEE for minors, in euros? (If you don't have one, write \"no ISEE\".)",
    },
}

BUTTONS: T = {
    "yes": {"it": "Sì", "en": "Yes"},
    "no": {"it": "No", "en": "No"},
    "income.yes": {"it": "Sì, è sotto", "en": "Yes, below"},
    "income.no": {"it": "No, è sopra", "en": "No, above"},
    "income.unknown": {"it": "Non lo so", "en": "I don't know"},
    "no_isee": {"it": "Senza ISEE", "en": "No ISEE"},
    "none": {"it": "0", "en": "0"},
    "send_to_operator": {"it": "Invia a un operatore", "en": "Send to an operator"},
    "no_thanks": {"it": "No, grazie", "en": "No, thanks"},
    "start": {"it": "Calcola il tuo caso", "en": "Work out your case"},
}

REASKS: T = {
    "date_invalid": {"it": "Non riesco a leggere la data. Scrivila come giorno/mese/anno, es. 15/03/2024.",
                     "en": "I can't read that date. Please write it as day/month/year, e.g. 15/03/2024."},
    "date_future": {"it": "Questa data è nel futuro: deve essere una data già passata. Riprova.",
                    "en": "That date is in the future: it must be a date that has already passed. Please try again."},
    "date_future_birth": {"it": "Questa data è nel futuro: se il bambino non è ancora nato, scrivi «annulla» e ricomincia. Altrimenti riscrivi la data di nascita.",
                          "en": "That date is in the future: if the baby isn't born yet, write \"cancel\" and start again. Otherwise write the date of birth again."},
    "date_past_expected": {"it": "La data presunta del parto non può essere già passata. Riscrivila.",
                           "en": "The expected date of birth cannot be in the past. Please write it again."},
    "date_before_child": {"it": "Il congedo di maternità non può finire prima della nascita (o dell'ingresso in famiglia). Controlla la data.",
                          "en": "Maternity leave cannot end before the birth (or the child's arrival). Please check the date."},
    "number_invalid": {"it": "Mi serve un numero, es. 2 (o 0 se nessuno).", "en": "I need a number, e.g. 2 (or 0 if none)."},
    "months_too_many": {"it": "Non può essere: il massimo è {most} mesi. Controlla e riscrivi il numero.",
                        "en": "That can't be right: the most is {most} months. Please check and write the number again."},
    "months_couple_too_many": {"it": "Insieme i genitori possono usare al massimo {most} mesi: controlla i mesi già usati e riscrivi quelli del padre.",
                               "en": "Together the parents can use at most {most} months: please check the months used and write the father's again."},
    "days_too_many": {"it": "Non può essere: il massimo è {most} giorni. Riscrivi il numero.",
                      "en": "That can't be right: the most is {most} days. Please write the number again."},
    "whole_days": {"it": "Il congedo di paternità si prende a giorni interi: scrivi un numero intero.",
                   "en": "Paternity leave is taken in whole days: please write a whole number."},
    "weekly_hours_invalid": {"it": "Scrivi le ore settimanali come numero, es. 40 o 36,5.",
                             "en": "Please write the weekly hours as a number, e.g. 40 or 36.5."},
    "working_days_invalid": {"it": "Scrivi i giorni lavorativi a settimana, un numero intero da 1 a 7 (es. 5).",
                             "en": "Please write the working days a week, a whole number from 1 to 7 (e.g. 5)."},
    "amount_invalid": {"it": "Mi serve un importo in euro, es. 350 o 1.200,50 (0 se nulla).",
                       "en": "I need an amount in euros, e.g. 350 or 1,200.50 (0 if nothing)."},
    "yes_no_invalid": {"it": "Rispondi sì o no, per favore (o usa i pulsanti).", "en": "Please answer yes or no (or use the buttons)."},
    "choice_invalid": {"it": "Scegli una delle risposte qui sotto, per favore.", "en": "Please choose one of the answers below."},
}

STEPS: T = {
    # parental leave
    "cp_age_limit": {"it": "Il congedo parentale si può prendere fino ai {years} anni del figlio: per te fino al {date}.",
                     "en": "Parental leave can be taken until the child turns {years}: for you, until {date}."},
    "cp_child_over_limit": {"it": "Tuo figlio ha già compiuto {years} anni: non restano mesi di congedo parentale.",
                            "en": "Your child has already turned {years}: no months of parental leave are left."},
    "cp_single": {"it": "Come genitore solo hai fino a {cap} mesi; ne hai usati {used}, quindi te ne restano {left}.",
                  "en": "As a single parent you have up to {cap} months; you have used {used}, so {left} are left."},
    "cp_couple": {"it": "Ogni genitore ha fino a {per_parent} mesi, la coppia insieme {base_cap}. La madre ne ha usati {mother}, il padre {father}: {used} in tutto.",
                  "en": "Each parent has up to {per_parent} months, the couple {base_cap} together. The mother has used {mother}, the father {father}: {used} in all."},
    "cp_father_extra_reached": {"it": "Il padre ha preso almeno {father_min} mesi, quindi la coppia arriva a {extra_cap} mesi.",
                                "en": "The father has taken at least {father_min} months, so the couple can reach {extra_cap} months."},
    "cp_father_extra_possible": {"it": "Se il padre prende in tutto almeno {father_min} mesi (ancora {more}), la coppia arriva a {extra_cap} mesi.",
                                 "en": "If the father takes at least {father_min} months in all ({more} more), the couple can reach {extra_cap} months."},
    "cp_father_extra_impossible": {"it": "Il padre non può più arrivare a {father_min} mesi, quindi la coppia resta al massimo più basso (non {extra_cap}).",
                                   "en": "The father can no longer reach {father_min} months, so the couple stays at the lower maximum (not {extra_cap})."},
    "cp_each_left": {"it": "Restano: alla madre {mother_left} mesi, al padre {father_left} mesi; alla coppia {pool} mesi in tutto.",
                     "en": "Left: {mother_left} months for the mother, {father_left} months for the father; {pool} months for the couple in all."},
    "cp_high_rule": {"it": "Il congedo di maternità è finito nel {year}: per questo caso spettano {months} mesi {rate_al} (in tutto, per la coppia), da usare entro il {until}. Ne avete già usati {used}.",
                     "en": "The maternity leave ended in {year}: in this case there are {months} months at {rate}% (in all, for the couple), to be used by {until}. You have already used {used}."},
    "cp_high_over_six": {"it": "Tuo figlio ha già compiuto {years} anni: i mesi {rate_al} non valgono più.",
                         "en": "Your child has already turned {years}: the months at {rate}% no longer apply."},
    "cp_paid": {"it": "I mesi indennizzati sono {paid_total} in tutto; ne avete usati {used}, ne restano {paid_left}: {high} {high_rate_al} e {low} {low_rate_al}.",
                "en": "There are {paid_total} paid months in all; you have used {used}, {paid_left} are left: {high} at {high_rate}% and {low} at {low_rate}%."},
    "cp_tested_yes": {"it": "Gli ultimi {months} mesi sono pagati {rate_al} solo se il reddito del genitore è sotto {multiple} volte il minimo di pensione: hai detto di sì, quindi sono pagati.",
                      "en": "The last {months} months are paid at {rate}% only if the parent's income is below {multiple} times the minimum pension: you said it is, so they are paid."},
    "cp_tested_no": {"it": "Gli ultimi {months} mesi sono pagati {rate_al} solo se il reddito del genitore è sotto {multiple} volte il minimo di pensione: hai detto di no, quindi non sono retribuiti.",
                     "en": "The last {months} months are paid at {rate}% only if the parent's income is below {multiple} times the minimum pension: you said it isn't, so they are unpaid."},
    "cp_tested_unknown": {"it": "Gli ultimi {months} mesi sono pagati {rate_al} solo se il reddito del genitore è sotto {multiple} volte il minimo di pensione; altrimenti non sono retribuiti.",
                          "en": "The last {months} months are paid at {rate}% only if the parent's income is below {multiple} times the minimum pension; otherwise they are unpaid."},
    # paternity leave
    "pat_due": {"it": "Il congedo di paternità obbligatorio è di {days} giorni lavorativi, pagati {pay_al}.",
                "en": "Compulsory paternity leave is {days} working days, paid at {pay}%."},
    "pat_due_multiple": {"it": "Per un parto plurimo il congedo di paternità è di {days} giorni lavorativi, pagati {pay_al}.",
                         "en": "For a multiple birth, paternity leave is {days} working days, paid at {pay}%."},
    "pat_window_born": {"it": "Si prende entro {after} mesi dalla nascita ({birth}): cioè entro il {end}.",
                        "en": "It must be taken within {after} months of the birth ({birth}): that is, by {end}."},
    "pat_window_expected": {"it": "Si può prendere da {before} mesi prima della data presunta ({expected}), cioè dal {start}, fino a {after} mesi dopo la nascita: se nasce il {expected}, entro il {end}.",
                            "en": "It can be taken from {before} months before the expected date ({expected}), that is from {start}, until {after} months after the birth: if the baby is born on {expected}, by {end}."},
    "pat_left": {"it": "Ti spettano {due} giorni, ne hai presi {used}: ne restano {left}.",
                 "en": "You are due {due} days and have taken {used}: {left} are left."},
    "pat_window_closed": {"it": "Il periodo è finito il {end}: i giorni non presi non si possono più usare.",
                          "en": "The window ended on {end}: days not taken can no longer be used."},
    "pat_notice_too_late": {"it": "Il preavviso di {notice} giorni non basta più per iniziare entro il {end}: parlane subito con il datore di lavoro.",
                            "en": "The {notice}-day notice no longer fits before {end}: speak to your employer at once."},
    "pat_notice": {"it": "Avvisa il datore di lavoro per iscritto almeno {notice} giorni prima: il primo giorno possibile è il {earliest}, l'ultimo il {end}.",
                   "en": "Tell your employer in writing at least {notice} days in advance: the earliest day you can start is {earliest}, the last is {end}."},
    # L. 104 permits
    "p104_days": {"it": "Chi assiste un familiare con disabilità grave ha {days} giorni di permesso retribuito al mese.",
                  "en": "Someone who assists a relative with a severe disability has {days} paid days of permit a month."},
    "p104_hours": {"it": "In ore: {weekly} ore ÷ {working_days} giorni = {daily} ore al giorno; × {days} = {monthly} ore al mese.",
                   "en": "In hours: {weekly} hours ÷ {working_days} days = {daily} hours a day; × {days} = {monthly} hours a month."},
    "p104_left": {"it": "Questo mese ne sono già stati usati {used}: restano {left_days} giorni, cioè {left_hours} ore.",
                  "en": "This month {used} have been used already: {left_days} days are left, that is {left_hours} hours."},
    "p104_sharing": {"it": "Più familiari possono avere il diritto e usarlo a turno, ma per la stessa persona il totale resta {days} giorni al mese.",
                     "en": "Several relatives can have the right and use it in turn, but for the same person the total stays {days} days a month."},
    "p104_own": {"it": "Se invece i permessi sono per te come lavoratore con disabilità grave: {per_day} ore al giorno, oppure {days} giorni al mese.",
                 "en": "If instead the permits are for you as a worker with a severe disability: {per_day} hours a day, or {days} days a month."},
    "p104_own_short": {"it": "Se invece i permessi sono per te come lavoratore con disabilità grave: lavorando meno di {threshold} ore al giorno, {per_day} ora al giorno, oppure {days} giorni al mese.",
                       "en": "If instead the permits are for you as a worker with a severe disability: working less than {threshold} hours a day, {per_day} hour a day, or {days} days a month."},
    # fringe benefits
    "fb_ceiling": {"it": "Nel {year} la soglia esente dei fringe benefit è {ceiling} € per un dipendente senza figli a carico.",
                   "en": "In {year} the tax-free fringe-benefit ceiling is €{ceiling} for an employee without dependent children."},
    "fb_ceiling_children": {"it": "Nel {year} la soglia esente è {ceiling} € per un dipendente con figli fiscalmente a carico.",
                            "en": "In {year} the tax-free ceiling is €{ceiling} for an employee with tax-dependent children."},
    "fb_left": {"it": "Hai già dato {given} € su {ceiling} €: puoi dare ancora fino a {left} € esenti.",
                "en": "You have given €{given} of €{ceiling}: you can still give up to €{left} tax-free."},
    "fb_already_over": {"it": "Attenzione: hai già dato {given} €, più della soglia di {ceiling} €. Superata la soglia anche di 1 €, diventa tassabile TUTTO l'importo, non solo l'eccedenza.",
                        "en": "Warning: you have already given €{given}, more than the €{ceiling} ceiling. Over the ceiling, even by €1, the WHOLE amount becomes taxable, not just the excess."},
    "fb_cliff": {"it": "Attenzione: dando altri {planned} € arriveresti a {total} €, oltre la soglia di {ceiling} €: diventerebbero tassabili tutti i {total} €, non solo l'eccedenza. Per restare esente puoi dare al massimo {left} €.",
                 "en": "Warning: giving another €{planned} would bring the total to €{total}, over the €{ceiling} ceiling: the whole €{total} would become taxable, not just the excess. To stay tax-free you can give at most €{left}."},
    "fb_planned_ok": {"it": "Dando altri {planned} € arrivi a {total} €: resti sotto la soglia (margine {left} €).",
                      "en": "Giving another €{planned} brings the total to €{total}: you stay under the ceiling (€{left} to spare)."},
    # nursery bonus
    "nido_band_1": {"it": "Con ISEE fino a {band_1} € il bonus è {amount} € all'anno.",
                    "en": "With an ISEE up to €{band_1} the bonus is €{amount} a year."},
    "nido_band_2": {"it": "Con ISEE tra {band_1} € e {band_2} € il bonus è {amount} € all'anno.",
                    "en": "With an ISEE between €{band_1} and €{band_2} the bonus is €{amount} a year."},
    "nido_band_3": {"it": "Con ISEE oltre {band_2} € il bonus è {amount} € all'anno.",
                    "en": "With an ISEE above €{band_2} the bonus is €{amount} a year."},
    "nido_no_isee": {"it": "Senza ISEE il bonus è {amount} € all'anno (con l'ISEE minorenni potrebbe essere di più).",
                     "en": "Without an ISEE the bonus is €{amount} a year (with an ISEE for minors it could be more)."},
    "nido_young": {"it": "Il bambino è nato dal {born_from} e l'ISEE è entro {isee_max} €: l'importo sale a {amount} € all'anno.",
                   "en": "The child was born on or after {born_from} and the ISEE is up to €{isee_max}: the amount rises to €{amount} a year."},
    "nido_young_not_isee": {"it": "L'importo maggiorato per i nati dal {born_from} vale solo con ISEE fino a {isee_max} €.",
                            "en": "The higher amount for children born from {born_from} applies only with an ISEE up to €{isee_max}."},
    "nido_monthly": {"it": "Si riceve in al massimo {instalments} rate mensili, in base alle ricevute caricate: fino a {monthly} € al mese ({amount} € ÷ {instalments}).",
                     "en": "It is paid in at most {instalments} monthly instalments, based on the receipts uploaded: up to €{monthly} a month (€{amount} ÷ {instalments})."},
    "nido_until": {"it": "La domanda vale per più anni, fino al {last_day}; ogni anno si confermano i mesi di frequenza.",
                   "en": "The application covers several years, until {last_day}; each year you confirm the months of attendance."},
    "nido_too_old": {"it": "Il bonus copre il bambino solo fino al {last_day}: per questo bambino non spetta più.",
                     "en": "The bonus covers the child only until {last_day}: for this child it is no longer due."},
    "nido_prepare": {"it": "Per la domanda all'INPS prepara: SPID, CIE o CNS (o rivolgiti a un patronato o al contact center 803 164); l'ISEE minorenni aggiornato (l'assegno unico non conta); i dati del nido pubblico o autorizzato; le ricevute delle rette pagate, da caricare mese per mese. La domanda la fa il genitore che paga la retta.",
                     "en": "For the INPS application, prepare: SPID, CIE or CNS (or go to a patronato or the 803 164 contact centre); an up-to-date ISEE for minors (the universal child allowance does not count); the details of the public or authorised nursery; the fee receipts, to upload month by month. The parent who pays the fee applies."},
}

LIMITS: T = {
    "cp_limit_ccnl": {"it": "Il tuo CCNL o i fondi bilaterali (es. WILA, ELBA) possono dare di più: chiedi all'ufficio del personale.",
                      "en": "Your CCNL or the bilateral funds (e.g. WILA, ELBA) can give more: ask your HR office."},
    "cp_limit_other_schemes": {"it": "Vale per i lavoratori dipendenti: per iscritti alla Gestione separata e autonomi i limiti sono diversi.",
                               "en": "This is for employees: Gestione separata members and the self-employed have different limits."},
    "cp_limit_adoption": {"it": "Per adozione e affidamento il congedo finisce comunque ai 18 anni del figlio: non l'ho verificato.",
                          "en": "For adoption and foster care the leave also ends when the child turns 18: I have not checked that."},
    "cp_limit_days": {"it": "Ho contato in mesi; l'uso a giorni o a ore e i preavvisi li stabilisce il CCNL.",
                      "en": "I counted in months; use by days or hours and the notice periods are set by the CCNL."},
    "pat_limit_employees": {"it": "Vale per i padri lavoratori dipendenti; sono esclusi autonomi e iscritti alla Gestione separata.",
                            "en": "This is for employed fathers; the self-employed and Gestione separata members are excluded."},
    "pat_limit_whole_days": {"it": "I giorni si prendono interi, non a ore; i giorni del congedo sono lavorativi.",
                             "en": "Days are taken whole, not by the hour; they are working days."},
    "pat_limit_other_leave": {"it": "Non ho considerato il congedo di paternità alternativo né il congedo parentale, che si aggiungono.",
                              "en": "I have not considered the alternative paternity leave or parental leave, which come on top."},
    "p104_limit_ccnl": {"it": "Il CCNL può regolare diversamente l'uso a ore.", "en": "Your CCNL may set different rules for hourly use."},
    "p104_limit_requirements": {"it": "Non ho verificato i requisiti (riconoscimento della disabilità grave, grado di parentela, assenza di ricovero a tempo pieno): li controlla l'INPS.",
                                "en": "I have not checked the requirements (recognised severe disability, degree of kinship, no full-time residential care): INPS checks them."},
    "p104_limit_no_health": {"it": "Non ti ho chiesto dati sulla salute: non scriverli in chat.",
                             "en": "I haven't asked for any health details: please don't type them in the chat."},
    "fb_limit_children_declaration": {"it": "La soglia più alta vale se il figlio è fiscalmente a carico e il dipendente ti consegna l'autocertificazione con i codici fiscali; spetta anche a entrambi i genitori.",
                                      "en": "The higher ceiling applies if the child is a tax dependant and the employee gives you the self-declaration with the tax codes; both parents can have it."},
    "fb_limit_children_hint": {"it": "Se il dipendente ha figli fiscalmente a carico la soglia è più alta: ricalcola con la sua autocertificazione.",
                               "en": "If the employee has tax-dependent children the ceiling is higher: work it out again with their self-declaration."},
    "fb_limit_what_counts": {"it": "Conta tutto ciò che il dipendente riceve nell'anno come fringe benefit, anche da altri datori di lavoro; beni e servizi non si possono convertire in denaro.",
                             "en": "Everything the employee receives in the year as fringe benefits counts, also from other employers; goods and services cannot be turned into cash."},
    "fb_limit_welfare": {"it": "Non riguarda i servizi di welfare dell'art. 51 c. 2 TUIR, che hanno regole proprie.",
                         "en": "It does not cover the welfare services of TUIR art. 51 c. 2, which have their own rules."},
    "nido_limit_tax_credit": {"it": "Se il bonus si possa sommare alla detrazione del 19% per le rette è da confermare: te lo dice un operatore.",
                              "en": "Whether the bonus can be combined with the 19% tax credit for the fees is to be confirmed: an operator can tell you."},
    "nido_limit_funds": {"it": "I fondi sono limitati e le domande si accolgono in ordine di arrivo.",
                         "en": "Funds are limited and applications are handled in order of arrival."},
    "nido_limit_regional": {"it": "In Lombardia, per le famiglie con ISEE più basso, Nidi Gratis Plus può coprire la parte di retta che resta.",
                            "en": "In Lombardy, for families with a lower ISEE, Nidi Gratis Plus can cover the rest of the fee."},
}

GENERAL: T = {
    "intro": {"it": "Ti faccio poche domande per calcolare il tuo caso; scrivi «annulla» per fermarti. Non scrivere dati sulla salute.",
              "en": "I'll ask you a few questions to work out your case; write \"cancel\" to stop. Please don't type health details."},
    "working": {"it": "Come l'ho calcolato:", "en": "How I worked it out:"},
    "limits": {"it": "Cosa non ho verificato:", "en": "What I did not check:"},
    "sources": {"it": "Regole usate:", "en": "Rules used:"},
    "source_line": {"it": "{source} (verificato il {date})", "en": "{source} (verified on {date})"},
    "to_confirm": {"it": "Una parte di queste regole è in verifica: un operatore dello sportello confermerà il calcolo.",
                   "en": "Part of these rules is being checked: a desk operator will confirm the result."},
    "offer": {"it": "Vuoi inviare questo risultato a un operatore, che lo ricontrolla con te?",
              "en": "Would you like to send this result to an operator, who will go through it with you?"},
    "outdated": {"it": "Le regole per questo calcolo sono in aggiornamento (è cambiato il periodo di validità di un importo o di una soglia), quindi preferisco non calcolarlo con numeri vecchi. Vuoi che un operatore dello sportello ti risponda?",
                 "en": "The rules for this calculation are being updated (the period of validity of an amount or a threshold has changed), so I'd rather not work it out with old numbers. Would you like a desk operator to answer you?"},
    "unavailable": {"it": "In questo momento non riesco a leggere le regole del calcolo. Vuoi che un operatore dello sportello ti risponda?",
                    "en": "I can't read the rules for this calculation right now. Would you like a desk operator to answer you?"},
    "cancelled": {"it": "Calcolo annullato: non ho conservato le tue risposte. Come posso aiutarti?",
                  "en": "Calculation cancelled: I have not kept your answers. How else can I help?"},
    "left": {"it": "Lascio da parte il calcolo (non ho conservato le tue risposte) e rispondo alla tua domanda.",
             "en": "I'll leave the calculation (I have not kept your answers) and answer your question."},
    "summary": {"it": "Calcolo «{title}»: {answers}. Risultato: {figures}.",
                "en": "Check \"{title}\": {answers}. Result: {figures}."},
    "choose": {"it": "Quale caso vuoi calcolare?", "en": "Which case would you like to work out?"},
}


def pick(table: T, key: str, language: str) -> str:
    variants = table[key]
    return variants.get(language, variants["it"])


def show(value: Any, language: str) -> str:
    """A value inside a sentence: numbers with the language's decimal mark, dates in full."""
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, date):
        return format_date(value, language)
    if isinstance(value, int):
        return str(value)  # years and counts: no thousands separator
    if isinstance(value, (Decimal, float)):
        number = Decimal(str(value))
        if number == number.to_integral_value():
            text = f"{int(number):,}"
        else:
            text = f"{number.quantize(Decimal('0.01')):,}".rstrip("0").rstrip(".")
        if language == "en":
            return text
        return text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return str(value)


PERCENT_VALUES = ("rate", "high_rate", "low_rate", "pay")


def percent_with_article(value: Any, language: str) -> str:
    """Italian "al 30%" but "all'80%" (and all'8%, all'11%, all'1%...)."""
    text = f"{show(value, language)}%"
    if language == "en":
        return f"at {text}"
    return f"all'{text}" if text[0] == "8" or text.startswith(("11", "1%", "1,")) else f"al {text}"


def render_step(step: Step, language: str, table: T) -> str:
    values = {name: show(value, language) for name, value in step.values.items()}
    values.update({f"{name}_al": percent_with_article(value, language)
                   for name, value in step.values.items() if name in PERCENT_VALUES})
    return pick(table, step.key, language).format(**values)


def question(check: str, field: str, language: str, values: Optional[Dict[str, Any]] = None) -> str:
    """The question; values named in it come from the parameters (QUESTION_VALUES of the check)."""
    return pick(QUESTIONS, f"{check}.{field}", language).format(
        **{name: show(value, language) for name, value in (values or {}).items()})


def reask(key: str, language: str, values: Optional[Dict[str, Any]] = None) -> str:
    return pick(REASKS, key, language).format(**{name: show(value, language) for name, value in (values or {}).items()})


def render_result(result: CheckResult, language: str) -> str:
    """The whole result: the working, the rules used with source and date, the limits."""
    lines: List[str] = [pick(TITLES, result.check, language), "", pick(GENERAL, "working", language)]
    lines += [f"• {render_step(step, language, STEPS)}" for step in result.steps]
    lines += ["", pick(GENERAL, "sources", language)]
    lines += [f"• {pick(GENERAL, 'source_line', language).format(source=item['source'], date=format_date(date.fromisoformat(item['verified_on']), language))}"
              for item in result.sources()]
    lines += ["", pick(GENERAL, "limits", language)]
    lines += [f"• {render_step(step, language, LIMITS)}" for step in result.limits]
    if result.to_confirm:
        lines += ["", pick(GENERAL, "to_confirm", language)]
    lines += ["", pick(GENERAL, "offer", language)]
    return "\n".join(lines)


def summary(result: CheckResult, language: str) -> str:
    """The working in one paragraph: the pre-filled question of a ticket about this result."""
    steps = " ".join(render_step(step, language, STEPS) for step in result.steps)
    return f"{pick(TITLES, result.check, language)}. {steps}"
