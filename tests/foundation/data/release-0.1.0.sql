-- A game in play at release 0.1.0 (schema revision 0011), for the upgrade test.
-- Made by loading the test factory's town ("release-010": checkpoints A, B, C, P, four readers,
-- teams SCH1 and COM1, a parks campaign), registering two players, uploading 40 taps and a
-- heartbeat through release 0.1.0's API, then:
--   pg_dump --data-only --inserts --disable-triggers --no-owner --no-privileges
-- Reader secrets are sealed with this test key (Fernet): 9T2kNraelsEBGQkSrxRX9XVua8SpNaPD20mOGgxcXCs=
-- Stored then: team SCH1 120 points (8.0 km, 3 active), COM1 20 points (1.6 km, 1 active).
--
-- PostgreSQL database dump
--


-- Dumped from database version 15.20 (Debian 15.20-0+deb12u1)
-- Dumped by pg_dump version 15.20 (Debian 15.20-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Data for Name: alembic_version; Type: TABLE DATA; Schema: public; Owner: -
--

SET SESSION AUTHORIZATION DEFAULT;

ALTER TABLE public.alembic_version DISABLE TRIGGER ALL;

INSERT INTO public.alembic_version VALUES ('0011');


ALTER TABLE public.alembic_version ENABLE TRIGGER ALL;

--
-- Data for Name: games; Type: TABLE DATA; Schema: public; Owner: -
--

ALTER TABLE public.games DISABLE TRIGGER ALL;

INSERT INTO public.games VALUES (1, 'release-010', 'Test game release-010', 'Europe/London', '2027-04-30 23:00:00+00', '2027-06-11 23:00:00+00', 60, 10, 25, NULL, 5, 40, 7, 21, 90, 1, '2026-12-03 10:40:37.076973+00', '2026-12-03 10:40:37.076979+00');


ALTER TABLE public.games ENABLE TRIGGER ALL;

--
-- Data for Name: holders; Type: TABLE DATA; Schema: public; Owner: -
--

ALTER TABLE public.holders DISABLE TRIGGER ALL;

INSERT INTO public.holders VALUES (1, 1, '2026-12-03 10:40:37.414528+00');
INSERT INTO public.holders VALUES (2, 1, '2026-12-03 10:40:37.414537+00');
INSERT INTO public.holders VALUES (3, 1, '2026-12-03 10:40:37.414538+00');
INSERT INTO public.holders VALUES (4, 1, '2026-12-03 10:40:37.414539+00');
INSERT INTO public.holders VALUES (5, 1, '2026-12-03 10:40:37.41454+00');
INSERT INTO public.holders VALUES (6, 1, '2026-12-03 10:40:37.414541+00');
INSERT INTO public.holders VALUES (7, 1, '2026-12-03 10:40:37.414541+00');
INSERT INTO public.holders VALUES (8, 1, '2026-12-03 10:40:37.414542+00');
INSERT INTO public.holders VALUES (9, 1, '2026-12-03 10:40:37.414543+00');
INSERT INTO public.holders VALUES (10, 1, '2026-12-03 10:40:37.414544+00');


ALTER TABLE public.holders ENABLE TRIGGER ALL;

--
-- Data for Name: teams; Type: TABLE DATA; Schema: public; Owner: -
--

ALTER TABLE public.teams DISABLE TRIGGER ALL;

INSERT INTO public.teams VALUES (1, 1, 'SCH1', 'Alpha Primary', 'school');
INSERT INTO public.teams VALUES (2, 1, 'COM1', 'Canal Walkers', 'community');


ALTER TABLE public.teams ENABLE TRIGGER ALL;

--
-- Data for Name: players; Type: TABLE DATA; Schema: public; Owner: -
--

ALTER TABLE public.players DISABLE TRIGGER ALL;

INSERT INTO public.players VALUES (1, 1, 4, 'Swift Otter', 'swift otter', true, false, '25-44', 'prefer_not_to_say', 2, NULL, NULL, NULL, NULL, 'not_given', '2026-12-03 10:40:38.253941+00', NULL);
INSERT INTO public.players VALUES (2, 1, 5, 'Brave Heron', 'brave heron', false, false, '5-11', 'prefer_not_to_say', NULL, NULL, NULL, NULL, NULL, 'not_given', '2026-12-03 10:40:38.843605+00', NULL);


ALTER TABLE public.players ENABLE TRIGGER ALL;

--
-- Data for Name: api_tokens; Type: TABLE DATA; Schema: public; Owner: -
--

ALTER TABLE public.api_tokens DISABLE TRIGGER ALL;

INSERT INTO public.api_tokens VALUES (1, '4e4599ab72a32ee07b96a909645532515edcd91432ddb2fe0e6302ca5729f8cd', 'organiser', NULL, NULL, NULL, 'release-fixture', '2026-12-03 10:40:36.872388+00', NULL);
INSERT INTO public.api_tokens VALUES (2, 'd20786bbacd678f6dd3630f9b5f94b8035da92c60c28107b003ed25b325bd476', 'player', 1, NULL, 1, NULL, '2026-12-03 10:40:38.733977+00', NULL);
INSERT INTO public.api_tokens VALUES (3, '8d0e3b59f4eb0133a789e5e66d646567763c384033eb979b8f5569d4ca91eb69', 'player', 1, NULL, 2, NULL, '2026-12-03 10:40:39.048691+00', NULL);


ALTER TABLE public.api_tokens ENABLE TRIGGER ALL;

--
-- Data for Name: audit_log; Type: TABLE DATA; Schema: public; Owner: -
--

ALTER TABLE public.audit_log DISABLE TRIGGER ALL;

INSERT INTO public.audit_log VALUES (1, 1, 'token:1:organiser', 'game.load', '{"changes": ["game release-010: created", "team SCH1: added", "team COM1: added", "checkpoint A: added", "checkpoint B: added", "checkpoint C: added", "checkpoint P: added", "reader R-release-010-A: added at A", "reader R-release-010-B: added at B", "reader R-release-010-C: added at C", "reader R-release-010-P: added at P", "campaign PARKS: added", "cards: 10 added"], "change_count": 13}', '2026-12-03 10:40:37.485466+00');
INSERT INTO public.audit_log VALUES (2, 1, 'public', 'player.register', '{"player_id": 1, "card_kind": "rfid"}', '2026-12-03 10:40:38.738179+00');
INSERT INTO public.audit_log VALUES (3, 1, 'public', 'player.register', '{"player_id": 2, "card_kind": "rfid"}', '2026-12-03 10:40:39.115779+00');


ALTER TABLE public.audit_log ENABLE TRIGGER ALL;

--
-- Data for Name: campaigns; Type: TABLE DATA; Schema: public; Owner: -
--

ALTER TABLE public.campaigns DISABLE TRIGGER ALL;

INSERT INTO public.campaigns VALUES (1, 1, 'PARKS', 'Parks x2', 2.000, '2027-04-30 23:00:00+00', '2027-05-07 23:00:00+00', '["park"]', '[]', '[]');


ALTER TABLE public.campaigns ENABLE TRIGGER ALL;

--
-- Data for Name: cards; Type: TABLE DATA; Schema: public; Owner: -
--

ALTER TABLE public.cards DISABLE TRIGGER ALL;

INSERT INTO public.cards VALUES (1, 1, '0000001', '04000000000001', 'K001', 'rfid', 1, 1, NULL, NULL);
INSERT INTO public.cards VALUES (2, 1, '0000002', '04000000000002', 'K002', 'rfid', 1, 2, NULL, NULL);
INSERT INTO public.cards VALUES (3, 1, '0000003', '04000000000003', 'K003', 'rfid', 1, 3, NULL, NULL);
INSERT INTO public.cards VALUES (4, 1, '0000004', '04000000000004', 'K004', 'rfid', NULL, 4, NULL, NULL);
INSERT INTO public.cards VALUES (5, 1, '0000005', '04000000000005', 'K005', 'rfid', NULL, 5, NULL, NULL);
INSERT INTO public.cards VALUES (6, 1, '0000006', '04000000000006', 'K006', 'rfid', NULL, 6, NULL, NULL);
INSERT INTO public.cards VALUES (7, 1, '0000007', '04000000000007', 'K007', 'rfid', NULL, 7, NULL, NULL);
INSERT INTO public.cards VALUES (8, 1, '0000008', '04000000000008', 'K008', 'rfid', NULL, 8, NULL, NULL);
INSERT INTO public.cards VALUES (9, 1, '0000009', '04000000000009', 'K009', 'rfid', NULL, 9, NULL, NULL);
INSERT INTO public.cards VALUES (10, 1, '0000010', '0400000000000A', 'K010', 'rfid', NULL, 10, NULL, NULL);


ALTER TABLE public.cards ENABLE TRIGGER ALL;

--
-- Data for Name: checkpoints; Type: TABLE DATA; Schema: public; Owner: -
--

ALTER TABLE public.checkpoints DISABLE TRIGGER ALL;

INSERT INTO public.checkpoints VALUES (1, 1, 'A', 'Alpha', 53.79, -2.24, '[]', NULL, NULL);
INSERT INTO public.checkpoints VALUES (2, 1, 'B', 'Bravo', 53.79, -2.2278212348060853, '[]', NULL, NULL);
INSERT INTO public.checkpoints VALUES (3, 1, 'C', 'Charlie', 53.79623067422178, -2.2339106174030428, '[]', NULL, NULL);
INSERT INTO public.checkpoints VALUES (4, 1, 'P', 'Park gate', 53.782805437090204, -2.24, '["park"]', NULL, NULL);


ALTER TABLE public.checkpoints ENABLE TRIGGER ALL;

--
-- Data for Name: taps; Type: TABLE DATA; Schema: public; Owner: -
--

ALTER TABLE public.taps DISABLE TRIGGER ALL;

INSERT INTO public.taps VALUES (1, 1, 'reader', 'R-release-010-A/0/1', 'R-release-010-A', 0, 1, 1, 1, 1, '04000000000001', '2027-05-02 07:07:00+00', '2027-05-02 07:07:00+00', '2027-05-03 12:00:00+00', 'journey_start', 0, 0, 1.000, NULL, 1, '2027-05-02');
INSERT INTO public.taps VALUES (2, 1, 'reader', 'R-release-010-A/0/2', 'R-release-010-A', 0, 2, 1, 1, 1, '04000000000001', '2027-05-02 07:49:00+00', '2027-05-02 07:49:00+00', '2027-05-03 12:00:00+00', 'leg', 10, 799.9851439981406, 1.000, NULL, 1, '2027-05-02');
INSERT INTO public.taps VALUES (4, 1, 'reader', 'R-release-010-A/0/4', 'R-release-010-A', 0, 4, 3, 3, 1, '04000000000003', '2027-05-02 07:21:00+00', '2027-05-02 07:21:00+00', '2027-05-03 12:00:00+00', 'journey_start', 0, 0, 1.000, NULL, 1, '2027-05-02');
INSERT INTO public.taps VALUES (5, 1, 'reader', 'R-release-010-A/0/5', 'R-release-010-A', 0, 5, 3, 3, 1, '04000000000003', '2027-05-02 08:03:00+00', '2027-05-02 08:03:00+00', '2027-05-03 12:00:00+00', 'leg', 10, 799.9851439981406, 1.000, NULL, 1, '2027-05-02');
INSERT INTO public.taps VALUES (7, 1, 'reader', 'R-release-010-A/0/7', 'R-release-010-A', 0, 7, 5, 5, 1, '04000000000005', '2027-05-02 07:35:00+00', '2027-05-02 07:35:00+00', '2027-05-03 12:00:00+00', 'journey_start', 0, 0, 1.000, NULL, NULL, '2027-05-02');
INSERT INTO public.taps VALUES (8, 1, 'reader', 'R-release-010-A/0/8', 'R-release-010-A', 0, 8, 5, 5, 1, '04000000000005', '2027-05-02 08:17:00+00', '2027-05-02 08:17:00+00', '2027-05-03 12:00:00+00', 'leg', 10, 799.9851439981406, 1.000, NULL, NULL, '2027-05-02');
INSERT INTO public.taps VALUES (10, 1, 'reader', 'R-release-010-A/0/10', 'R-release-010-A', 0, 10, 7, 7, 1, '04000000000007', '2027-05-02 07:49:00+00', '2027-05-02 07:49:00+00', '2027-05-03 12:00:00+00', 'journey_start', 0, 0, 1.000, NULL, NULL, '2027-05-02');
INSERT INTO public.taps VALUES (11, 1, 'reader', 'R-release-010-A/0/11', 'R-release-010-A', 0, 11, 7, 7, 1, '04000000000007', '2027-05-02 08:31:00+00', '2027-05-02 08:31:00+00', '2027-05-03 12:00:00+00', 'leg', 10, 799.9851439981406, 1.000, NULL, NULL, '2027-05-02');
INSERT INTO public.taps VALUES (13, 1, 'reader', 'R-release-010-A/0/13', 'R-release-010-A', 0, 13, 9, 9, 1, '04000000000009', '2027-05-02 08:03:00+00', '2027-05-02 08:03:00+00', '2027-05-03 12:00:00+00', 'journey_start', 0, 0, 1.000, NULL, NULL, '2027-05-02');
INSERT INTO public.taps VALUES (14, 1, 'reader', 'R-release-010-A/0/14', 'R-release-010-A', 0, 14, 9, 9, 1, '04000000000009', '2027-05-02 08:45:00+00', '2027-05-02 08:45:00+00', '2027-05-03 12:00:00+00', 'leg', 10, 799.9851439981406, 1.000, NULL, NULL, '2027-05-02');
INSERT INTO public.taps VALUES (3, 1, 'reader', 'R-release-010-A/0/3', 'R-release-010-A', 0, 3, 2, 2, 1, '04000000000002', '2027-05-02 07:28:00+00', '2027-05-02 07:28:00+00', '2027-05-03 12:00:00+00', 'leg', 10, 799.9999999997706, 1.000, NULL, 1, '2027-05-02');
INSERT INTO public.taps VALUES (6, 1, 'reader', 'R-release-010-A/0/6', 'R-release-010-A', 0, 6, 4, 4, 1, '04000000000004', '2027-05-02 07:42:00+00', '2027-05-02 07:42:00+00', '2027-05-03 12:00:00+00', 'leg', 10, 799.9999999997706, 1.000, NULL, 2, '2027-05-02');
INSERT INTO public.taps VALUES (9, 1, 'reader', 'R-release-010-A/0/9', 'R-release-010-A', 0, 9, 6, 6, 1, '04000000000006', '2027-05-02 07:56:00+00', '2027-05-02 07:56:00+00', '2027-05-03 12:00:00+00', 'leg', 10, 799.9999999997706, 1.000, NULL, NULL, '2027-05-02');
INSERT INTO public.taps VALUES (12, 1, 'reader', 'R-release-010-A/0/12', 'R-release-010-A', 0, 12, 8, 8, 1, '04000000000008', '2027-05-02 08:10:00+00', '2027-05-02 08:10:00+00', '2027-05-03 12:00:00+00', 'leg', 10, 799.9999999997706, 1.000, NULL, NULL, '2027-05-02');
INSERT INTO public.taps VALUES (15, 1, 'reader', 'R-release-010-A/0/15', 'R-release-010-A', 0, 15, 10, 10, 1, '0400000000000A', '2027-05-02 08:24:00+00', '2027-05-02 08:24:00+00', '2027-05-03 12:00:00+00', 'leg', 10, 799.9999999997706, 1.000, NULL, NULL, '2027-05-02');
INSERT INTO public.taps VALUES (16, 1, 'reader', 'R-release-010-B/0/1', 'R-release-010-B', 0, 1, 1, 1, 2, '04000000000001', '2027-05-02 07:21:00+00', '2027-05-02 07:21:00+00', '2027-05-03 12:00:00+00', 'leg', 10, 799.9999990195373, 1.000, NULL, 1, '2027-05-02');
INSERT INTO public.taps VALUES (17, 1, 'reader', 'R-release-010-B/0/2', 'R-release-010-B', 0, 2, 2, 2, 2, '04000000000002', '2027-05-02 07:42:00+00', '2027-05-02 07:42:00+00', '2027-05-03 12:00:00+00', 'leg', 10, 799.9999990195373, 1.000, NULL, 1, '2027-05-02');
INSERT INTO public.taps VALUES (18, 1, 'reader', 'R-release-010-B/0/3', 'R-release-010-B', 0, 3, 3, 3, 2, '04000000000003', '2027-05-02 07:35:00+00', '2027-05-02 07:35:00+00', '2027-05-03 12:00:00+00', 'leg', 10, 799.9999990195373, 1.000, NULL, 1, '2027-05-02');
INSERT INTO public.taps VALUES (19, 1, 'reader', 'R-release-010-B/0/4', 'R-release-010-B', 0, 4, 4, 4, 2, '04000000000004', '2027-05-02 07:56:00+00', '2027-05-02 07:56:00+00', '2027-05-03 12:00:00+00', 'leg', 10, 799.9999990195373, 1.000, NULL, 2, '2027-05-02');
INSERT INTO public.taps VALUES (20, 1, 'reader', 'R-release-010-B/0/5', 'R-release-010-B', 0, 5, 5, 5, 2, '04000000000005', '2027-05-02 07:49:00+00', '2027-05-02 07:49:00+00', '2027-05-03 12:00:00+00', 'leg', 10, 799.9999990195373, 1.000, NULL, NULL, '2027-05-02');
INSERT INTO public.taps VALUES (21, 1, 'reader', 'R-release-010-B/0/6', 'R-release-010-B', 0, 6, 6, 6, 2, '04000000000006', '2027-05-02 08:10:00+00', '2027-05-02 08:10:00+00', '2027-05-03 12:00:00+00', 'leg', 10, 799.9999990195373, 1.000, NULL, NULL, '2027-05-02');
INSERT INTO public.taps VALUES (22, 1, 'reader', 'R-release-010-B/0/7', 'R-release-010-B', 0, 7, 7, 7, 2, '04000000000007', '2027-05-02 08:03:00+00', '2027-05-02 08:03:00+00', '2027-05-03 12:00:00+00', 'leg', 10, 799.9999990195373, 1.000, NULL, NULL, '2027-05-02');
INSERT INTO public.taps VALUES (23, 1, 'reader', 'R-release-010-B/0/8', 'R-release-010-B', 0, 8, 8, 8, 2, '04000000000008', '2027-05-02 08:24:00+00', '2027-05-02 08:24:00+00', '2027-05-03 12:00:00+00', 'leg', 10, 799.9999990195373, 1.000, NULL, NULL, '2027-05-02');
INSERT INTO public.taps VALUES (24, 1, 'reader', 'R-release-010-B/0/9', 'R-release-010-B', 0, 9, 9, 9, 2, '04000000000009', '2027-05-02 08:17:00+00', '2027-05-02 08:17:00+00', '2027-05-03 12:00:00+00', 'leg', 10, 799.9999990195373, 1.000, NULL, NULL, '2027-05-02');
INSERT INTO public.taps VALUES (25, 1, 'reader', 'R-release-010-B/0/10', 'R-release-010-B', 0, 10, 10, 10, 2, '0400000000000A', '2027-05-02 08:38:00+00', '2027-05-02 08:38:00+00', '2027-05-03 12:00:00+00', 'leg', 10, 799.9999990195373, 1.000, NULL, NULL, '2027-05-02');
INSERT INTO public.taps VALUES (26, 1, 'reader', 'R-release-010-C/0/1', 'R-release-010-C', 0, 1, 1, 1, 3, '04000000000001', '2027-05-02 07:35:00+00', '2027-05-02 07:35:00+00', '2027-05-03 12:00:00+00', 'leg', 10, 799.9851439981406, 1.000, NULL, 1, '2027-05-02');
INSERT INTO public.taps VALUES (27, 1, 'reader', 'R-release-010-C/0/2', 'R-release-010-C', 0, 2, 3, 3, 3, '04000000000003', '2027-05-02 07:49:00+00', '2027-05-02 07:49:00+00', '2027-05-03 12:00:00+00', 'leg', 10, 799.9851439981406, 1.000, NULL, 1, '2027-05-02');
INSERT INTO public.taps VALUES (28, 1, 'reader', 'R-release-010-C/0/3', 'R-release-010-C', 0, 3, 5, 5, 3, '04000000000005', '2027-05-02 08:03:00+00', '2027-05-02 08:03:00+00', '2027-05-03 12:00:00+00', 'leg', 10, 799.9851439981406, 1.000, NULL, NULL, '2027-05-02');
INSERT INTO public.taps VALUES (29, 1, 'reader', 'R-release-010-C/0/4', 'R-release-010-C', 0, 4, 7, 7, 3, '04000000000007', '2027-05-02 08:17:00+00', '2027-05-02 08:17:00+00', '2027-05-03 12:00:00+00', 'leg', 10, 799.9851439981406, 1.000, NULL, NULL, '2027-05-02');
INSERT INTO public.taps VALUES (30, 1, 'reader', 'R-release-010-C/0/5', 'R-release-010-C', 0, 5, 9, 9, 3, '04000000000009', '2027-05-02 08:31:00+00', '2027-05-02 08:31:00+00', '2027-05-03 12:00:00+00', 'leg', 10, 799.9851439981406, 1.000, NULL, NULL, '2027-05-02');
INSERT INTO public.taps VALUES (31, 1, 'reader', 'R-release-010-P/0/1', 'R-release-010-P', 0, 1, 1, 1, 4, '04000000000001', '2027-05-02 08:03:00+00', '2027-05-02 08:03:00+00', '2027-05-03 12:00:00+00', 'leg', 20, 799.9999999997706, 2.000, 1, 1, '2027-05-02');
INSERT INTO public.taps VALUES (32, 1, 'reader', 'R-release-010-P/0/2', 'R-release-010-P', 0, 2, 2, 2, 4, '04000000000002', '2027-05-02 07:14:00+00', '2027-05-02 07:14:00+00', '2027-05-03 12:00:00+00', 'journey_start', 0, 0, 1.000, NULL, 1, '2027-05-02');
INSERT INTO public.taps VALUES (33, 1, 'reader', 'R-release-010-P/0/3', 'R-release-010-P', 0, 3, 3, 3, 4, '04000000000003', '2027-05-02 08:17:00+00', '2027-05-02 08:17:00+00', '2027-05-03 12:00:00+00', 'leg', 20, 799.9999999997706, 2.000, 1, 1, '2027-05-02');
INSERT INTO public.taps VALUES (34, 1, 'reader', 'R-release-010-P/0/4', 'R-release-010-P', 0, 4, 4, 4, 4, '04000000000004', '2027-05-02 07:28:00+00', '2027-05-02 07:28:00+00', '2027-05-03 12:00:00+00', 'journey_start', 0, 0, 1.000, NULL, 2, '2027-05-02');
INSERT INTO public.taps VALUES (35, 1, 'reader', 'R-release-010-P/0/5', 'R-release-010-P', 0, 5, 5, 5, 4, '04000000000005', '2027-05-02 08:31:00+00', '2027-05-02 08:31:00+00', '2027-05-03 12:00:00+00', 'leg', 20, 799.9999999997706, 2.000, 1, NULL, '2027-05-02');
INSERT INTO public.taps VALUES (36, 1, 'reader', 'R-release-010-P/0/6', 'R-release-010-P', 0, 6, 6, 6, 4, '04000000000006', '2027-05-02 07:42:00+00', '2027-05-02 07:42:00+00', '2027-05-03 12:00:00+00', 'journey_start', 0, 0, 1.000, NULL, NULL, '2027-05-02');
INSERT INTO public.taps VALUES (37, 1, 'reader', 'R-release-010-P/0/7', 'R-release-010-P', 0, 7, 7, 7, 4, '04000000000007', '2027-05-02 08:45:00+00', '2027-05-02 08:45:00+00', '2027-05-03 12:00:00+00', 'leg', 20, 799.9999999997706, 2.000, 1, NULL, '2027-05-02');
INSERT INTO public.taps VALUES (38, 1, 'reader', 'R-release-010-P/0/8', 'R-release-010-P', 0, 8, 8, 8, 4, '04000000000008', '2027-05-02 07:56:00+00', '2027-05-02 07:56:00+00', '2027-05-03 12:00:00+00', 'journey_start', 0, 0, 1.000, NULL, NULL, '2027-05-02');
INSERT INTO public.taps VALUES (39, 1, 'reader', 'R-release-010-P/0/9', 'R-release-010-P', 0, 9, 9, 9, 4, '04000000000009', '2027-05-02 08:59:00+00', '2027-05-02 08:59:00+00', '2027-05-03 12:00:00+00', 'leg', 20, 799.9999999997706, 2.000, 1, NULL, '2027-05-02');
INSERT INTO public.taps VALUES (40, 1, 'reader', 'R-release-010-P/0/10', 'R-release-010-P', 0, 10, 10, 10, 4, '0400000000000A', '2027-05-02 08:10:00+00', '2027-05-02 08:10:00+00', '2027-05-03 12:00:00+00', 'journey_start', 0, 0, 1.000, NULL, NULL, '2027-05-02');


ALTER TABLE public.taps ENABLE TRIGGER ALL;

--
-- Data for Name: checkins; Type: TABLE DATA; Schema: public; Owner: -
--

ALTER TABLE public.checkins DISABLE TRIGGER ALL;



ALTER TABLE public.checkins ENABLE TRIGGER ALL;

--
-- Data for Name: evaluation_areas; Type: TABLE DATA; Schema: public; Owner: -
--

ALTER TABLE public.evaluation_areas DISABLE TRIGGER ALL;



ALTER TABLE public.evaluation_areas ENABLE TRIGGER ALL;

--
-- Data for Name: evaluation_projects; Type: TABLE DATA; Schema: public; Owner: -
--

ALTER TABLE public.evaluation_projects DISABLE TRIGGER ALL;



ALTER TABLE public.evaluation_projects ENABLE TRIGGER ALL;

--
-- Data for Name: holder_days; Type: TABLE DATA; Schema: public; Owner: -
--

ALTER TABLE public.holder_days DISABLE TRIGGER ALL;

INSERT INTO public.holder_days VALUES (1, 1, '2027-05-02', 5, 5, 4, 50, 3199.970287015589);
INSERT INTO public.holder_days VALUES (1, 2, '2027-05-02', 3, 3, 2, 20, 1599.9999990193078);
INSERT INTO public.holder_days VALUES (1, 3, '2027-05-02', 5, 5, 4, 50, 3199.970287015589);
INSERT INTO public.holder_days VALUES (1, 4, '2027-05-02', 3, 3, 2, 20, 1599.9999990193078);
INSERT INTO public.holder_days VALUES (1, 5, '2027-05-02', 5, 5, 4, 50, 3199.970287015589);
INSERT INTO public.holder_days VALUES (1, 6, '2027-05-02', 3, 3, 2, 20, 1599.9999990193078);
INSERT INTO public.holder_days VALUES (1, 7, '2027-05-02', 5, 5, 4, 50, 3199.970287015589);
INSERT INTO public.holder_days VALUES (1, 8, '2027-05-02', 3, 3, 2, 20, 1599.9999990193078);
INSERT INTO public.holder_days VALUES (1, 9, '2027-05-02', 5, 5, 4, 50, 3199.970287015589);
INSERT INTO public.holder_days VALUES (1, 10, '2027-05-02', 3, 3, 2, 20, 1599.9999990193078);


ALTER TABLE public.holder_days ENABLE TRIGGER ALL;

--
-- Data for Name: holder_team_totals; Type: TABLE DATA; Schema: public; Owner: -
--

ALTER TABLE public.holder_team_totals DISABLE TRIGGER ALL;

INSERT INTO public.holder_team_totals VALUES (1, 1, 1, 5, 4, 50, 3199.970287015589);
INSERT INTO public.holder_team_totals VALUES (1, 2, 1, 3, 2, 20, 1599.9999990193078);
INSERT INTO public.holder_team_totals VALUES (1, 3, 1, 5, 4, 50, 3199.970287015589);
INSERT INTO public.holder_team_totals VALUES (1, 4, 2, 3, 2, 20, 1599.9999990193078);


ALTER TABLE public.holder_team_totals ENABLE TRIGGER ALL;

--
-- Data for Name: holder_totals; Type: TABLE DATA; Schema: public; Owner: -
--

ALTER TABLE public.holder_totals DISABLE TRIGGER ALL;

INSERT INTO public.holder_totals VALUES (1, 1, 5, 5, 4, 50, 3199.970287015589);
INSERT INTO public.holder_totals VALUES (1, 2, 3, 3, 2, 20, 1599.9999990193078);
INSERT INTO public.holder_totals VALUES (1, 3, 5, 5, 4, 50, 3199.970287015589);
INSERT INTO public.holder_totals VALUES (1, 4, 3, 3, 2, 20, 1599.9999990193078);
INSERT INTO public.holder_totals VALUES (1, 5, 5, 5, 4, 50, 3199.970287015589);
INSERT INTO public.holder_totals VALUES (1, 6, 3, 3, 2, 20, 1599.9999990193078);
INSERT INTO public.holder_totals VALUES (1, 7, 5, 5, 4, 50, 3199.970287015589);
INSERT INTO public.holder_totals VALUES (1, 8, 3, 3, 2, 20, 1599.9999990193078);
INSERT INTO public.holder_totals VALUES (1, 9, 5, 5, 4, 50, 3199.970287015589);
INSERT INTO public.holder_totals VALUES (1, 10, 3, 3, 2, 20, 1599.9999990193078);


ALTER TABLE public.holder_totals ENABLE TRIGGER ALL;

--
-- Data for Name: lsoa_areas; Type: TABLE DATA; Schema: public; Owner: -
--

ALTER TABLE public.lsoa_areas DISABLE TRIGGER ALL;



ALTER TABLE public.lsoa_areas ENABLE TRIGGER ALL;

--
-- Data for Name: lucky_draw_schedules; Type: TABLE DATA; Schema: public; Owner: -
--

ALTER TABLE public.lucky_draw_schedules DISABLE TRIGGER ALL;



ALTER TABLE public.lucky_draw_schedules ENABLE TRIGGER ALL;

--
-- Data for Name: lucky_draws; Type: TABLE DATA; Schema: public; Owner: -
--

ALTER TABLE public.lucky_draws DISABLE TRIGGER ALL;



ALTER TABLE public.lucky_draws ENABLE TRIGGER ALL;

--
-- Data for Name: lucky_draw_winners; Type: TABLE DATA; Schema: public; Owner: -
--

ALTER TABLE public.lucky_draw_winners DISABLE TRIGGER ALL;



ALTER TABLE public.lucky_draw_winners ENABLE TRIGGER ALL;

--
-- Data for Name: pending_taps; Type: TABLE DATA; Schema: public; Owner: -
--

ALTER TABLE public.pending_taps DISABLE TRIGGER ALL;



ALTER TABLE public.pending_taps ENABLE TRIGGER ALL;

--
-- Data for Name: postcode_lookup; Type: TABLE DATA; Schema: public; Owner: -
--

ALTER TABLE public.postcode_lookup DISABLE TRIGGER ALL;



ALTER TABLE public.postcode_lookup ENABLE TRIGGER ALL;

--
-- Data for Name: readers; Type: TABLE DATA; Schema: public; Owner: -
--

ALTER TABLE public.readers DISABLE TRIGGER ALL;

INSERT INTO public.readers VALUES ('R-release-010-B', 1, 2, 'gAAAAABrEUclCS9yA7kE_p1mOfGkhsYVPvB7upD36AuCerO2gWHkseBXgFiX6lWAokTefZegneuXil4PPsdiT20fT2A9s6NgdRvFCxhswap1yncVr7jgxYSynx3adaGHPNinlVFOQr3k', false, '2026-12-03 10:40:37.245409+00', '2026-12-03 10:40:37.245415+00', NULL, '2027-05-03 12:00:00+00', '2027-05-02 08:38:00+00', NULL, NULL, NULL, 0, 0, '{"0": 10}');
INSERT INTO public.readers VALUES ('R-release-010-C', 1, 3, 'gAAAAABrEUcl73yEjzJmCRfwxZNL78ULZgJPUemhgKfayZNYvLsI2vVZnZSZ_WavkAUbuYjVDecAE6gYvjHWgKzmKh4LRofNNwewLmAhMaJwzQnKM_xr9A8jU4dlkNailll5p6Ovkr4Y', false, '2026-12-03 10:40:37.273814+00', '2026-12-03 10:40:37.273823+00', NULL, '2027-05-03 12:00:00+00', '2027-05-02 08:31:00+00', NULL, NULL, NULL, 0, 0, '{"0": 5}');
INSERT INTO public.readers VALUES ('R-release-010-P', 1, 4, 'gAAAAABrEUcluAZx8jFciYz9RGWysqQab7Tk-QpofvxNvRgZCY1d-XY8nlMYXoBO7gdsG32ENvN7qtz9RzK7naIifgm_kWv13HiH1WBGzXeVWTFpfIi9-0X_YplathTxYF1ghFfKGhDa', false, '2026-12-03 10:40:37.288598+00', '2026-12-03 10:40:37.288604+00', NULL, '2027-05-03 12:00:00+00', '2027-05-02 08:59:00+00', NULL, NULL, NULL, 0, 0, '{"0": 10}');
INSERT INTO public.readers VALUES ('R-release-010-A', 1, 1, 'gAAAAABrEUclb3dW7hW9aO0tYOOhr4NdAuSu0rkQhvUTJaUgcD1HmfS1sg6TqStj0BMztHargtpiNkYMaIQNOAO3e4PeT3B0y-WoWH7NrvB3q0_YsPFM6WzRrPUSzOenrA_vxfo14cve', false, '2026-12-03 10:40:37.226747+00', '2026-12-03 10:40:37.226754+00', '2027-05-03 12:00:00+00', '2027-05-03 12:00:00+00', '2027-05-02 08:45:00+00', 80, '1.0', 0, 0, 0, '{"0": 15}');


ALTER TABLE public.readers ENABLE TRIGGER ALL;

--
-- Data for Name: reader_assignments; Type: TABLE DATA; Schema: public; Owner: -
--

ALTER TABLE public.reader_assignments DISABLE TRIGGER ALL;

INSERT INTO public.reader_assignments VALUES (1, 1, 'R-release-010-A', 1, NULL);
INSERT INTO public.reader_assignments VALUES (2, 1, 'R-release-010-B', 2, NULL);
INSERT INTO public.reader_assignments VALUES (3, 1, 'R-release-010-C', 3, NULL);
INSERT INTO public.reader_assignments VALUES (4, 1, 'R-release-010-P', 4, NULL);


ALTER TABLE public.reader_assignments ENABLE TRIGGER ALL;

--
-- Data for Name: reader_days; Type: TABLE DATA; Schema: public; Owner: -
--

ALTER TABLE public.reader_days DISABLE TRIGGER ALL;

INSERT INTO public.reader_days VALUES (1, 'R-release-010-A', '2027-05-02', 15);
INSERT INTO public.reader_days VALUES (1, 'R-release-010-B', '2027-05-02', 10);
INSERT INTO public.reader_days VALUES (1, 'R-release-010-C', '2027-05-02', 5);
INSERT INTO public.reader_days VALUES (1, 'R-release-010-P', '2027-05-02', 10);


ALTER TABLE public.reader_days ENABLE TRIGGER ALL;

--
-- Data for Name: reader_heartbeats; Type: TABLE DATA; Schema: public; Owner: -
--

ALTER TABLE public.reader_heartbeats DISABLE TRIGGER ALL;

INSERT INTO public.reader_heartbeats VALUES (1, 1, 'R-release-010-A', '2027-05-03 12:00:00+00', '2027-05-03 12:00:00+00', 80, '1.0', 0);


ALTER TABLE public.reader_heartbeats ENABLE TRIGGER ALL;

--
-- Data for Name: registration_attempts; Type: TABLE DATA; Schema: public; Owner: -
--

ALTER TABLE public.registration_attempts DISABLE TRIGGER ALL;



ALTER TABLE public.registration_attempts ENABLE TRIGGER ALL;

--
-- Data for Name: survey_responses; Type: TABLE DATA; Schema: public; Owner: -
--

ALTER TABLE public.survey_responses DISABLE TRIGGER ALL;



ALTER TABLE public.survey_responses ENABLE TRIGGER ALL;

--
-- Data for Name: survey_waves; Type: TABLE DATA; Schema: public; Owner: -
--

ALTER TABLE public.survey_waves DISABLE TRIGGER ALL;



ALTER TABLE public.survey_waves ENABLE TRIGGER ALL;

--
-- Data for Name: tap_rejections; Type: TABLE DATA; Schema: public; Owner: -
--

ALTER TABLE public.tap_rejections DISABLE TRIGGER ALL;



ALTER TABLE public.tap_rejections ENABLE TRIGGER ALL;

--
-- Data for Name: team_memberships; Type: TABLE DATA; Schema: public; Owner: -
--

ALTER TABLE public.team_memberships DISABLE TRIGGER ALL;

INSERT INTO public.team_memberships VALUES (1, 1, 1, 1, NULL);
INSERT INTO public.team_memberships VALUES (2, 1, 2, 1, NULL);
INSERT INTO public.team_memberships VALUES (3, 1, 3, 1, NULL);
INSERT INTO public.team_memberships VALUES (6, 1, 6, NULL, NULL);
INSERT INTO public.team_memberships VALUES (7, 1, 7, NULL, NULL);
INSERT INTO public.team_memberships VALUES (8, 1, 8, NULL, NULL);
INSERT INTO public.team_memberships VALUES (9, 1, 9, NULL, NULL);
INSERT INTO public.team_memberships VALUES (10, 1, 10, NULL, NULL);
INSERT INTO public.team_memberships VALUES (11, 1, 4, 2, NULL);
INSERT INTO public.team_memberships VALUES (12, 1, 5, NULL, NULL);


ALTER TABLE public.team_memberships ENABLE TRIGGER ALL;

--
-- Data for Name: team_totals; Type: TABLE DATA; Schema: public; Owner: -
--

ALTER TABLE public.team_totals DISABLE TRIGGER ALL;

INSERT INTO public.team_totals VALUES (1, 1, 10, 120, 7999.940573050486, 3);
INSERT INTO public.team_totals VALUES (1, 2, 2, 20, 1599.9999990193078, 1);


ALTER TABLE public.team_totals ENABLE TRIGGER ALL;

--
-- Name: api_tokens_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.api_tokens_id_seq', 3, true);


--
-- Name: audit_log_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.audit_log_id_seq', 3, true);


--
-- Name: campaigns_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.campaigns_id_seq', 1, true);


--
-- Name: cards_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.cards_id_seq', 10, true);


--
-- Name: checkins_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.checkins_id_seq', 1, false);


--
-- Name: checkpoints_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.checkpoints_id_seq', 4, true);


--
-- Name: evaluation_projects_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.evaluation_projects_id_seq', 1, false);


--
-- Name: games_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.games_id_seq', 1, true);


--
-- Name: holders_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.holders_id_seq', 10, true);


--
-- Name: lucky_draw_schedules_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.lucky_draw_schedules_id_seq', 1, false);


--
-- Name: lucky_draws_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.lucky_draws_id_seq', 1, false);


--
-- Name: players_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.players_id_seq', 2, true);


--
-- Name: reader_assignments_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.reader_assignments_id_seq', 4, true);


--
-- Name: reader_heartbeats_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.reader_heartbeats_id_seq', 1, true);


--
-- Name: registration_attempts_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.registration_attempts_id_seq', 1, false);


--
-- Name: survey_responses_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.survey_responses_id_seq', 1, false);


--
-- Name: tap_rejections_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.tap_rejections_id_seq', 1, false);


--
-- Name: taps_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.taps_id_seq', 40, true);


--
-- Name: team_memberships_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.team_memberships_id_seq', 12, true);


--
-- Name: teams_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.teams_id_seq', 2, true);


--
-- PostgreSQL database dump complete
--


